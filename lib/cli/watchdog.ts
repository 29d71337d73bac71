/**
 * `upkeep watchdog [--socket PATH] [DAEMON OPTION]...`: make sure the daemon runs. When its socket
 * answers a `version` request within a second, exit 0 at once (silently: cron runs this every
 * minute). Otherwise start `upkeep daemon OPTIONS` fully detached (own session, stdin from
 * /dev/null, stdout and stderr appended to LOG_DIR/upkeep.console.log), wait until its socket
 * answers and exit 0, or 1 when it does not. The daemon's lock (STATE_DIR/upkeep.lock) makes a
 * second daemon started by a racing watchdog exit at once, so there is never more than one.
 */

import { parseArgs } from "node:util";
import { DAEMON_OPTIONS } from "./options.ts";
import { sendRequest } from "../control/client.ts";
import { PROTOCOL_VERSION } from "../control/protocol.ts";
import { isCompiled, selfArgv } from "../install/build_info.ts";
import { BUILD_COMPILED } from "../version.ts";
import { defaultPaths } from "./paths.ts";
import { originalNofile } from "../process/limits.ts";

const HELP = `Usage: upkeep watchdog [--socket PATH] [DAEMON OPTION]...

Start the upkeep daemon unless its socket answers (run by cron at boot and every minute).
Options are those of 'upkeep daemon': --conf-dir DIR (repeatable), --state-dir DIR, --log-dir DIR,
--socket PATH, --runlevel N, --debug, --log-size SIZE, --log-keep N, --log-max-age DAYS,
--log-timestamps FMT, --log-markers, --log-compress.

  --wait SECONDS   how long to wait for a started daemon to answer (default 30)`;

/** How long the running daemon has to answer before it counts as dead. */
const PROBE_TIMEOUT_MS = 1000;

/** How long to keep waiting for an answer once the daemon we started has exited. */
const EXITED_GRACE_MS = 5000;

/** True when a daemon answers a `version` request on `socket` within `timeoutMs`. */
export async function daemonAnswers(
  socket: string,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    const ask = sendRequest(
      socket,
      { v: PROTOCOL_VERSION, cmd: "version", args: [], options: {} },
      timeoutMs,
    )
      .then((r) => r.ok, () => false);
    return await Promise.race([ask, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The file the detached daemon's stdout and stderr go to. */
export function consoleLogPath(logDir: string): string {
  return `${logDir}/upkeep.console.log`;
}

export async function watchdogMain(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ...DAEMON_OPTIONS, wait: { type: "string" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    console.error(
      `upkeep watchdog: ${e instanceof Error ? e.message : e} (try 'upkeep watchdog --help')`,
    );
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const defaults = defaultPaths();
  const abs = (p: string) => p.startsWith("/") ? p : `${Deno.cwd()}/${p}`;
  const stateDir = abs(values["state-dir"] ?? defaults.stateDir);
  const logDir = abs(values["log-dir"] ?? defaults.logDir);
  const socket = abs(
    values.socket ?? (values["state-dir"] ? `${stateDir}/upkeep.sock` : defaults.socket),
  );
  if (await daemonAnswers(socket)) return 0;

  const daemonArgs = ["daemon"];
  for (const d of values["conf-dir"] ?? []) daemonArgs.push("--conf-dir", abs(d));
  if (values["state-dir"]) daemonArgs.push("--state-dir", stateDir);
  if (values["log-dir"]) daemonArgs.push("--log-dir", logDir);
  if (values.socket) daemonArgs.push("--socket", socket);
  if (values.runlevel) daemonArgs.push("--runlevel", values.runlevel);
  if (values.debug) daemonArgs.push("--debug");
  for (const k of ["log-size", "log-keep", "log-max-age", "log-timestamps"] as const) {
    const v = values[k];
    if (typeof v === "string") daemonArgs.push(`--${k}`, v);
  }
  if (values["log-markers"]) daemonArgs.push("--log-markers");
  if (values["log-compress"]) daemonArgs.push("--log-compress");

  const execPath = Deno.execPath();
  // compiled-safe: Deno.mainModule is only read when not compiled (deno running main.ts).
  const self = selfArgv(isCompiled(BUILD_COMPILED, execPath), execPath, Deno.mainModule);
  await Deno.mkdir(logDir, { recursive: true });
  const consoleLog = consoleLogPath(logDir);
  // Deno cannot hand a file to a child's stdio, so a tiny sh redirects and then execs the daemon;
  // `detached` gives it its own session, so it outlives this watchdog and cron's job.
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", 'exec "$@" </dev/null >>"$0" 2>&1', consoleLog, ...self, ...daemonArgs],
    stdin: "null",
    stdout: "null",
    stderr: "null",
    // Deno raised our open-files limit; the daemon learns the one we were given (its jobs get it).
    env: { NO_COLOR: "1", ...nofileEnv() },
    detached: true,
  }).spawn();
  child.unref();
  let exited: Deno.CommandStatus | null = null;
  let exitedAt = Infinity;
  child.status.then((s) => {
    exited = s;
    exitedAt = performance.now();
  }, () => {});

  const waitMs = Number(values.wait ?? "30") * 1000;
  const deadline = performance.now() + (Number.isFinite(waitMs) ? waitMs : 30_000);
  // When our daemon exits (the lock is held: another watchdog's daemon may be starting up), give
  // that one a few seconds to answer rather than the whole wait.
  while (performance.now() < Math.min(deadline, exitedAt + EXITED_GRACE_MS)) {
    if (await daemonAnswers(socket, 500)) {
      const how = exited
        ? "another watchdog's daemon is answering"
        : `started it (pid ${child.pid})`;
      console.log(`upkeep watchdog: the daemon was not answering on ${socket}; ${how}`);
      return 0;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const status = exited as Deno.CommandStatus | null;
  const why = status ? `it exited with status ${status.code}` : "it is still not answering";
  const tail = await Deno.readTextFile(consoleLog).then(
    (t) => t.trimEnd().split("\n").slice(-5),
    () => [],
  );
  console.error(
    `upkeep watchdog: started '${[...self, ...daemonArgs].join(" ")}' but ${why}; ` +
      `last lines of ${consoleLog}:\n${tail.map((l) => `  ${l}`).join("\n")}`,
  );
  return 1;
}

/** `UPKEEP_NOFILE` for the daemon we start: our own original soft open-files limit. */
function nofileEnv(): Record<string, string> {
  const n = originalNofile();
  return n && Number.isFinite(n.soft) ? { UPKEEP_NOFILE: String(n.soft) } : {};
}
