/**
 * `upkeep logs JOB [INSTANCE] [-n N] [-f] [--since TIME] [--log-dir DIR]`: a job's `console log`
 * output, read from the files in the log dir (rotated ones first, compressed ones too), without the
 * daemon; `-f` keeps following through rotations and respawns. See lib/log/read_logs.ts.
 */

import { parseOptions } from "./options.ts";
import { usageError } from "./dispatch.ts";
import { defaultPaths } from "./paths.ts";
import { logFileName } from "../supervisor/environment.ts";
import { follow, listLogFiles, printSelection } from "../log/read_logs.ts";
import { parseSince } from "../log/timestamps.ts";
import { quietSignals } from "../process/quiet_signals.ts";

const HELP = `Usage: upkeep logs [OPTION]... JOB [INSTANCE]

Print a job's log (console log), the rotated files first. Needs no daemon: any user who may read
the files can use it.

  -n, --lines N     only the last N lines (with -f: default 10)
  -f, --follow      keep printing what is written, across rotations and respawns
  --since TIME      lines since TIME: 10m, 2h, 3d (ago), today, yesterday, 2024-05-01,
                    '2024-05-01 12:30', or an RFC 3339 time (logs with timestamps; without them,
                    whole files written since TIME)
  --log-dir DIR     the daemon's log dir (default /var/log/upkeep as root)`;

const OPTIONS = {
  lines: { type: "string", short: "n" },
  follow: { type: "boolean", short: "f" },
  since: { type: "string" },
  "log-dir": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export async function logsMain(argv: string[]): Promise<number> {
  quietSignals(); // `logs -f` can follow for hours, as root: SIGUSR1 must not open an inspector
  const positional: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith("-") && a !== "-") {
      flags.push(a);
      const name = a.startsWith("--") ? a.slice(2) : a === "-n" ? "lines" : "";
      const spec = (OPTIONS as Record<string, { type: string }>)[name];
      if (spec?.type === "string" && !a.includes("=") && i + 1 < argv.length) {
        flags.push(argv[++i]!);
      }
    } else {
      positional.push(a);
    }
  }
  let values;
  try {
    values = parseOptions(flags, OPTIONS);
  } catch (e) {
    return usageError("upkeep logs", e instanceof Error ? e.message : String(e));
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const [job, instance = "", ...extra] = positional;
  if (!job || extra.length) return usageError("upkeep logs", "expected JOB [INSTANCE]");
  const str = (k: string) => values[k] as string | undefined;
  let last: number | null = null;
  if (str("lines") !== undefined) {
    if (!/^\d+$/.test(str("lines")!)) {
      return usageError("upkeep logs", `bad line count '${str("lines")}'`);
    }
    last = Number(str("lines"));
  } else if (values.follow) {
    last = 10;
  }
  let since: number | null = null;
  if (str("since") !== undefined) {
    since = parseSince(str("since")!, Date.now());
    if (since === null) return usageError("upkeep logs", `bad time '${str("since")}'`);
  }
  let logDir = str("log-dir");
  if (!logDir) {
    try {
      logDir = defaultPaths().logDir;
    } catch (e) {
      return usageError("upkeep logs", e instanceof Error ? e.message : String(e));
    }
  }
  const base = logFileName(job, instance);
  let files;
  try {
    files = listLogFiles(logDir, base);
  } catch (e) {
    console.error(`upkeep logs: cannot read ${logDir}: ${words(e)}`);
    return 1;
  }
  if (files.length === 0 && !values.follow) {
    console.error(`upkeep logs: no log for ${describe(job, instance)} in ${logDir} (${base})`);
    return 1;
  }
  const stdout = Deno.stdout.writable.getWriter();
  const nl = new Uint8Array([10]);
  const write = async (line: Uint8Array) => {
    await stdout.write(line);
    await stdout.write(nl);
  };
  try {
    const { unstamped } = await printSelection(files, { since, last }, write);
    if (unstamped && since !== null) {
      console.error(
        "upkeep logs: some files have no timestamps ('log timestamps'): --since kept them whole",
      );
    }
  } catch (e) {
    if (e instanceof Deno.errors.BrokenPipe) return 0; // `upkeep logs web | head`
    console.error(`upkeep logs: ${words(e)}`);
    return 1;
  }
  if (!values.follow) return 0;
  const current = `${logDir}/${base}`;
  let offset = 0;
  try {
    offset = Deno.statSync(current).size;
  } catch { /* not there yet: from its start once it is */ }
  const abort = new AbortController();
  const stop = () => abort.abort();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  try {
    await follow(current, offset, (b) => stdout.write(b), abort.signal);
  } catch (e) {
    if (e instanceof Deno.errors.BrokenPipe) return 0;
    if (!abort.signal.aborted) {
      console.error(`upkeep logs: ${words(e)}`);
      return 1;
    }
  }
  return 0;
}

function describe(job: string, instance: string): string {
  return instance ? `job '${job}' instance '${instance}'` : `job '${job}'`;
}

function words(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  const i = m.indexOf(" (os error");
  return i > 0 ? m.slice(0, i) : m;
}
