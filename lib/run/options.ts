/**
 * `upkeep run` command line: parsed with node:util parseArgs (strict) into RunOptions, or a
 * one-line usage error. Pure: no Deno APIs.
 */

import { parseArgs } from "node:util";
import { parseDuration } from "../duration.ts";
import { canonicalSignal } from "../process/signals.ts";

export const RUN_USAGE = `Usage: upkeep run [OPTION]... JOB.conf
       upkeep run [OPTION]... -- COMMAND [ARG]...

Run a job file (pre-start, main process, post-stop, with its env, chdir, setuid, umask, nice,
limit and console settings) or a command once, in the foreground, for cron.

Options:
      --timeout D        at the deadline, send the kill signal to the whole process group,
                         then SIGKILL after the kill timeout; exit 124
      --kill-signal SIG  signal sent at the timeout (default: the job's, TERM)
      --kill-timeout D   wait before SIGKILL (default: the job's, 5s)
      --no-overlap       skip the run (exit 75) while a previous run of this job still goes
      --lock FILE        as --no-overlap, with this lock file
      --wait-lock        wait for the previous run instead of exiting 75
      --retries N        run again up to N times on failure
      --retry-delay D    delay before the first retry, doubling each time (default 1s)
      --log FILE         append output to FILE, one time stamp per line
                         (default with 'console log': the job's log file)
      --log-dir DIR      directory of the default log file
      --no-log           do not write a log file
      --tee              also copy output to stdout (default when stdout is a terminal)
      --quiet-success    print nothing when the run succeeds; output and summary on failure
      --json             print the summary as one JSON object
      --name NAME        job name for the COMMAND form (default: the command's base name)
  -h, --help             show this help

Durations: 90 (seconds), 0.5s, 500ms, 90s, 5m, 1h.
Exit status: the job's (128+N for signal N), 124 on timeout, 75 when skipped for a held lock,
2 for a usage error.`;

export interface RunOptions {
  /** Job file path, or null for the COMMAND form. */
  readonly jobFile: string | null;
  readonly command: readonly string[];
  readonly name: string | null;
  /** Seconds, or null for none. */
  readonly timeout: number | null;
  readonly killSignal: string | null;
  readonly killTimeout: number | null;
  readonly noOverlap: boolean;
  readonly lockFile: string | null;
  readonly waitLock: boolean;
  readonly retries: number;
  /** Seconds before the first retry. */
  readonly retryDelay: number;
  readonly log: string | null;
  readonly logDir: string | null;
  readonly noLog: boolean;
  readonly tee: boolean;
  readonly quietSuccess: boolean;
  readonly json: boolean;
  readonly help: boolean;
}

function duration(name: string, text: string | undefined): number | null | { error: string } {
  if (text === undefined) return null;
  const s = parseDuration(text);
  return s === null ? { error: `invalid duration '${text}' for --${name}` } : s;
}

/** Parse `upkeep run` arguments. */
export function parseRunArgs(args: readonly string[]): RunOptions | { error: string } {
  let values, positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: true,
      options: {
        timeout: { type: "string" },
        "kill-signal": { type: "string" },
        "kill-timeout": { type: "string" },
        "no-overlap": { type: "boolean" },
        lock: { type: "string" },
        "wait-lock": { type: "boolean" },
        retries: { type: "string" },
        "retry-delay": { type: "string" },
        log: { type: "string" },
        "log-dir": { type: "string" },
        "no-log": { type: "boolean" },
        tee: { type: "boolean" },
        "quiet-success": { type: "boolean" },
        json: { type: "boolean" },
        name: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { error: msg.split("\n")[0]!.replace(/\. To specify a positional.*$/, "") };
  }
  const dashDash = args.indexOf("--");
  const help = values.help === true;
  let jobFile: string | null = null;
  let command: string[] = [];
  if (dashDash >= 0) {
    command = args.slice(dashDash + 1) as string[];
    if (positionals.length > command.length) {
      return { error: "give a job file or -- COMMAND, not both" };
    }
    if (!command.length && !help) return { error: "missing command after --" };
  } else if (positionals.length === 1) {
    jobFile = positionals[0]!;
  } else if (positionals.length > 1) {
    return { error: `unexpected argument '${positionals[1]}' (use -- before a command)` };
  } else if (!help) {
    return { error: "missing job file or -- COMMAND" };
  }

  const timeout = duration("timeout", values.timeout);
  const killTimeout = duration("kill-timeout", values["kill-timeout"]);
  const retryDelay = duration("retry-delay", values["retry-delay"]);
  for (const d of [timeout, killTimeout, retryDelay]) if (d && typeof d === "object") return d;
  if (timeout === 0) return { error: "--timeout must be more than 0" };
  let killSignal: string | null = null;
  if (values["kill-signal"] !== undefined) {
    killSignal = canonicalSignal(values["kill-signal"]);
    if (killSignal === null) return { error: `unknown signal '${values["kill-signal"]}'` };
  }
  let retries = 0;
  if (values.retries !== undefined) {
    if (!/^\d+$/.test(values.retries)) return { error: `invalid --retries '${values.retries}'` };
    retries = Number(values.retries);
  }
  if (values.log !== undefined && values["no-log"]) return { error: "--log and --no-log conflict" };
  if (values.name !== undefined && !/^[^\s/][^\s]*$/.test(values.name)) {
    return { error: `invalid --name '${values.name}'` };
  }
  return {
    jobFile,
    command,
    name: values.name ?? null,
    timeout: timeout as number | null,
    killSignal,
    killTimeout: killTimeout as number | null,
    noOverlap: values["no-overlap"] === true || values.lock !== undefined,
    lockFile: values.lock ?? null,
    waitLock: values["wait-lock"] === true,
    retries,
    retryDelay: (retryDelay as number | null) ?? 1,
    log: values.log ?? null,
    logDir: values["log-dir"] ?? null,
    noLog: values["no-log"] === true,
    tee: values.tee === true,
    quietSuccess: values["quiet-success"] === true,
    json: values.json === true,
    help,
  };
}
