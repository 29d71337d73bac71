/**
 * The job model: the plain, immutable value a job file parses into, with Upstart 1.13's defaults
 * filled in. Pure types and constants only: no Deno APIs, no I/O.
 *
 * Upstart's words are kept: a job *class* is what a `.conf` file defines; running copies of it are
 * *instances* (see lib/supervisor). The JSON printed by `check-config --json` is this object with
 * `startOn`/`stopOn` re-printed in normal form (see lib/job/json.ts).
 */

import type { EventExpr } from "../events/expr.ts";

/** A process of a job: the main one, or one of the four hook processes. */
export type ProcessKind = "main" | "preStart" | "postStart" | "preStop" | "postStop";

/** Upstart's own names for the process kinds, as printed by initctl and in `PROCESS=`. */
export const PROCESS_NAMES: Readonly<Record<ProcessKind, string>> = {
  main: "main",
  preStart: "pre-start",
  postStart: "post-start",
  preStop: "pre-stop",
  postStop: "post-stop",
};

/** Order in which initctl lists live processes. */
export const PROCESS_ORDER: readonly ProcessKind[] = [
  "main",
  "preStart",
  "postStart",
  "preStop",
  "postStop",
];

/** `exec COMMAND` (text kept verbatim, quotes included) or a `script ... end script` body. */
export type ProcessSpec = { readonly exec: string } | { readonly script: string };

export type Expect = "none" | "fork" | "daemon" | "stop";
export type Console = "log" | "output" | "owner" | "none";

/**
 * A resource limit value: a number, or `"unlimited"`. A value past Number.MAX_SAFE_INTEGER (rlim_t
 * goes to 2^64 - 2) is kept as its exact decimal text.
 */
export type LimitValue = number | "unlimited" | `${bigint}`;
export interface Limit {
  readonly soft: LimitValue;
  readonly hard: LimitValue;
}

/** Resource names accepted by the `limit` stanza (Upstart 1.13). */
export const LIMIT_RESOURCES = [
  "as",
  "core",
  "cpu",
  "data",
  "fsize",
  "memlock",
  "msgqueue",
  "nice",
  "nofile",
  "nproc",
  "rss",
  "rtprio",
  "sigpending",
  "stack",
] as const;
export type LimitResource = typeof LIMIT_RESOURCES[number];

/** `respawn limit COUNT INTERVAL`; `"unlimited"` also stands for a 0 in either number. */
export type RespawnLimit = { readonly count: number; readonly interval: number } | "unlimited";

/** A `normal exit` entry: an exit status number, or a signal name without `SIG` (e.g. `"TERM"`). */
export type NormalExit = number | string;

/** `cgroup CONTROLLER [NAME] [KEY VALUE]`. */
export interface Cgroup {
  readonly controller: string;
  readonly name: string | null;
  readonly key: string | null;
  readonly value: string | null;
}

/** upkeep extension: one health check (`health exec|http|tcp ...`). */
export type HealthCheck =
  | { readonly type: "exec"; readonly command: string }
  | { readonly type: "http"; readonly url: string }
  | { readonly type: "tcp"; readonly host: string; readonly port: number };

/** upkeep extension: the `health ...` stanzas together. Seconds are numbers (may be fractional). */
export interface Health {
  readonly checks: readonly HealthCheck[];
  readonly interval: number;
  readonly timeout: number;
  readonly retries: number;
  readonly grace: number;
  /** Resident memory limit of the job's process group, bytes; null for none. */
  readonly memory: number | null;
}

/**
 * upkeep extension: the `log ...` stanzas (rotation, retention, timestamps, markers). A null field
 * takes the daemon's default (`upkeep daemon --log-size ...`, lib/log/settings.ts).
 */
export interface JobLog {
  /** `log rotate SIZE COUNT` (bytes per file, old files kept) or `log rotate off`. */
  readonly rotate: { readonly size: number; readonly keep: number } | "off" | null;
  /** `log max-age DAYS`: rotated files older than this are removed; seconds, or "off". */
  readonly maxAge: number | "off" | null;
  /** `log timestamps [rfc3339|tai64n|off]`: a time at the start of every line. */
  readonly timestamps: "rfc3339" | "tai64n" | "off" | null;
  /** `log markers [on|off]`: a line when each process starts and how it ended. */
  readonly markers: boolean | null;
  /** `log compress [on|off]`: rotated files gzip'ed (`JOB.log.1.gz`). */
  readonly compress: boolean | null;
}

/** A job without `log` stanzas: every setting from the daemon. */
export const JOB_LOG_DEFAULTS: JobLog = Object.freeze({
  rotate: null,
  maxAge: null,
  timestamps: null,
  markers: null,
  compress: null,
});

export const HEALTH_DEFAULTS = {
  interval: 10,
  timeout: 3,
  retries: 3,
  grace: 0,
} as const;

/** A parsed job class. Every field is present; absent stanzas carry Upstart's defaults. */
export interface JobClass {
  /** Name from the path relative to the conf dir, without `.conf` (`net/apache`). */
  readonly name: string;
  /** Path of the `.conf` file it came from ("" when parsed from text). */
  readonly file: string;

  readonly description: string | null;
  readonly author: string | null;
  readonly version: string | null;
  readonly usage: string | null;
  readonly emits: readonly string[];

  readonly startOn: EventExpr | null;
  readonly stopOn: EventExpr | null;
  readonly manual: boolean;

  /** Main process (`exec` or `script`); null for a job with no main process. */
  readonly main: ProcessSpec | null;
  readonly preStart: ProcessSpec | null;
  readonly postStart: ProcessSpec | null;
  readonly preStop: ProcessSpec | null;
  readonly postStop: ProcessSpec | null;

  readonly task: boolean;
  /** `instance NAME` template (may hold `$VAR`); "" for a single-instance job. */
  readonly instance: string;
  readonly respawn: boolean;
  readonly respawnLimit: RespawnLimit;
  readonly normalExit: readonly NormalExit[];
  readonly expect: Expect;
  /** Signal name without `SIG` (`"TERM"`), or a decimal number for signals without a name. */
  readonly killSignal: string;
  /** Seconds. */
  readonly killTimeout: number;
  readonly reloadSignal: string;
  readonly console: Console;

  /** `env` stanzas in file order, later ones overriding earlier ones of the same key. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * `env KEY` stanzas naming a variable the daemon's environment does not have: as Upstart, they
   * take KEY out of the job's environment (a `set-env` value included).
   */
  readonly envUnset: readonly string[];
  readonly export: readonly string[];
  readonly chdir: string | null;
  readonly chroot: string | null;
  readonly setuid: string | null;
  readonly setgid: string | null;
  /** File-creation mask as a number (default 0o022). */
  readonly umask: number;
  readonly nice: number | null;
  readonly limits: Readonly<Partial<Record<LimitResource, Limit>>>;
  /** oom_score_adj, -1000..1000, or `"never"` (-1000); null when unset. */
  readonly oomScore: number | "never" | null;
  readonly apparmorLoad: string | null;
  readonly apparmorSwitch: string | null;
  readonly cgroups: readonly Cgroup[];
  readonly debug: boolean;

  // upkeep extensions (see README "Beyond Upstart").
  /** `respawn delay MIN MAX`: exponential back-off between respawns, seconds. */
  readonly respawnDelay: { readonly min: number; readonly max: number } | null;
  /** `respawn retry AFTER`: seconds after a respawn-limit stop before starting again. */
  readonly respawnRetry: number | null;
  readonly health: Health | null;
  /** `log ...` stanzas (console log output: rotation, timestamps, markers). */
  readonly log: JobLog;
}

/** The job a file with no stanzas at all defines. */
export function defaultJob(name: string, file: string): JobClass {
  return {
    name,
    file,
    description: null,
    author: null,
    version: null,
    usage: null,
    emits: [],
    startOn: null,
    stopOn: null,
    manual: false,
    main: null,
    preStart: null,
    postStart: null,
    preStop: null,
    postStop: null,
    task: false,
    instance: "",
    respawn: false,
    respawnLimit: { count: 10, interval: 5 },
    normalExit: [],
    expect: "none",
    killSignal: "TERM",
    killTimeout: 5,
    reloadSignal: "HUP",
    console: "log",
    env: {},
    envUnset: [],
    export: [],
    chdir: null,
    chroot: null,
    setuid: null,
    setgid: null,
    umask: 0o022,
    nice: null,
    limits: {},
    oomScore: null,
    apparmorLoad: null,
    apparmorSwitch: null,
    cgroups: [],
    debug: false,
    respawnDelay: null,
    respawnRetry: null,
    health: null,
    log: JOB_LOG_DEFAULTS,
  };
}

/** One problem found in a job file. `line` is 1-based; `severity` "warning" never invalidates. */
export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly message: string;
  readonly severity: "error" | "warning";
}

/** `FILE:LINE: message`, the form Upstart logs. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}: ${d.message}`;
}
