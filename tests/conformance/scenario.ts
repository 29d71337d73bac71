/**
 * The shape of a conformance scenario: job files plus a list of steps (initctl commands, waits on
 * conditions, files the jobs write, signals), run the same way against the real Upstart 1.13.2 and
 * against upkeep. Types and small builders only.
 *
 * Placeholders, replaced per target before a job file is written or a step runs:
 *   @TMP@  a scratch dir of the run (jobs write markers there; steps read and create files there)
 *   @BIN@  a dir holding `initctl`, `start`, `stop`, `restart`, `reload`, `status` that talk to the
 *          target (Upstart's session init has none on the jobs' PATH)
 */

/** What a step prints into the transcript. */
export type Output = "all" | "code" | "none";

export type Step =
  /** Run `initctl ARGS` (or `start ARGS` … with `as`) and record stdout, stderr, exit code. */
  | {
    readonly do: "initctl";
    readonly args: readonly string[];
    readonly as?: string;
    /** Record less (for answers whose state is a race, e.g. `start --no-wait`). */
    readonly output?: Output;
    /** Run in the background under this id; `join` records it later. */
    readonly background?: string;
  }
  /** Wait for a background command to end and record it. */
  | { readonly do: "join"; readonly id: string }
  /** Poll `initctl ARGS` until stdout+stderr matches; record the matching answer. */
  | {
    readonly do: "await";
    readonly args: readonly string[];
    readonly match: RegExp;
    /** Also wait until the main pid is one not seen before (a respawned process). */
    readonly fresh?: boolean;
    readonly timeoutMs?: number;
  }
  /** Wait until a file under @TMP@ exists (and its text matches), then record its text. */
  | {
    readonly do: "file";
    readonly path: string;
    readonly match?: RegExp;
    readonly record?: boolean;
    readonly timeoutMs?: number;
  }
  /** Wait until a job's log file (in the log dir) matches; record it with CRLF made LF. */
  | { readonly do: "log"; readonly name: string; readonly match: RegExp; readonly raw?: boolean }
  /** Create a file under @TMP@ (to let a job go on). */
  | { readonly do: "touch"; readonly path: string; readonly text?: string }
  /** Write, replace or remove a job file (`text` null removes it). */
  | {
    readonly do: "job";
    readonly name: string;
    readonly text: string | null;
    readonly ext?: string;
  }
  /** Send a signal to the main process of a job (pid read from its status line). */
  | { readonly do: "kill"; readonly args: readonly string[]; readonly signal: string }
  /** Record the command line of a job's main process (pid read from its status line). */
  | { readonly do: "mainCmd"; readonly args: readonly string[] }
  /** Send a signal to the pid written in a file under @TMP@. */
  | { readonly do: "killPid"; readonly path: string; readonly signal: string }
  /** Wait until the pid written in a file under @TMP@ has exited. */
  | { readonly do: "pidGone"; readonly path: string }
  /**
   * Record the first `FILE:LINE: message` the daemon reported (Upstart's stderr, upkeep's log) for
   * each job file, or, with `file`, wait until there is one for that file and record it.
   */
  | { readonly do: "parseErrors"; readonly file?: string }
  /** A note in the transcript (for reading it). */
  | { readonly do: "note"; readonly text: string };

export interface Scenario {
  readonly name: string;
  /** Job files: name → text (`name` may contain `/`; `.conf` is added unless it has an extension). */
  readonly jobs: Readonly<Record<string, string>>;
  readonly steps: readonly Step[];
  /**
   * Start upkeep as it starts by default, emitting its boot events (startup, the filesystem
   * events, runlevel …). Otherwise it emits `startup` alone, as the oracle does.
   */
  readonly bootEvents?: boolean;
  /** Both daemons start without any event (`--no-startup-event`): nothing starts by itself. */
  readonly noStartupEvent?: boolean;
  /** Extra variables in the daemon's (init's) environment. */
  readonly daemonEnv?: Readonly<Record<string, string>>;
  /**
   * A deliberate difference: upkeep's transcript must equal `upkeep` (and differ from Upstart's,
   * else the difference is gone and the scenario should compare plainly). The reason is listed in
   * docs/upstart-differences.md.
   */
  readonly deliberate?: { readonly reason: string; readonly upkeep: string };
}

// ------------------------------------------------------------------ builders

export const initctl = (...args: string[]): Step => ({ do: "initctl", args });
export const as = (program: string, ...args: string[]): Step => ({
  do: "initctl",
  args,
  as: program,
});
export const codeOnly = (...args: string[]): Step => ({ do: "initctl", args, output: "code" });
export const quiet = (...args: string[]): Step => ({ do: "initctl", args, output: "none" });
export const bg = (id: string, ...args: string[]): Step => ({
  do: "initctl",
  args,
  background: id,
});
export const join = (id: string): Step => ({ do: "join", id });
export const awaitStatus = (match: RegExp, ...args: string[]): Step => ({
  do: "await",
  args: ["status", ...args],
  match,
});
/** Wait for a status with a main pid not seen before (after a respawn). */
export const awaitFresh = (match: RegExp, ...args: string[]): Step => ({
  do: "await",
  args: ["status", ...args],
  match,
  fresh: true,
});
export const awaitList = (match: RegExp): Step => ({ do: "await", args: ["list"], match });
export const file = (path: string, match?: RegExp): Step => ({ do: "file", path, match });
export const waitFile = (path: string, match?: RegExp): Step => ({
  do: "file",
  path,
  match,
  record: false,
});
export const touch = (path: string, text?: string): Step => ({ do: "touch", path, text });
export const kill = (signal: string, ...args: string[]): Step => ({ do: "kill", args, signal });
export const note = (text: string): Step => ({ do: "note", text });
export const mainCmd = (...args: string[]): Step => ({ do: "mainCmd", args });
export const parseErrors = (file?: string): Step =>
  file === undefined ? { do: "parseErrors" } : { do: "parseErrors", file };
export const job = (name: string, text: string | null): Step => ({ do: "job", name, text });
export const killPid = (path: string, signal: string): Step => ({ do: "killPid", path, signal });

/** A shell loop that waits (polling a file, bounded at ~60 s) until @TMP@/NAME exists. */
export function gate(name: string): string {
  return `n=0; while [ ! -e @TMP@/${name} ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done`;
}

/**
 * A task started by `event` that appends what it was told to @TMP@/FILE: the event names and the
 * job-event variables (RESULT, PROCESS, EXIT_STATUS, EXIT_SIGNAL) plus `extra` variables.
 */
export function recorder(event: string, out: string, extra: readonly string[] = []): string {
  const vars = ["JOB", "INSTANCE", "RESULT", "PROCESS", "EXIT_STATUS", "EXIT_SIGNAL", ...extra]
    .map((v) => `${v}=\${${v}-unset}`).join(" ");
  return `start on ${event}
task
script
  echo "$UPSTART_EVENTS ${vars}" >> @TMP@/${out}
end script
`;
}
