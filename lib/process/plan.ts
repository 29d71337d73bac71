/**
 * How to run one process of a job: the argv, environment, working directory, output and set-up
 * that carry out the job's `exec`/`script`, `console`, `umask`, `nice`, `limit`, `oom score`,
 * `chroot`, `chdir`, `setuid` and `setgid` stanzas. Pure: no Deno APIs, no I/O.
 *
 * The common case (no privileged set-up) runs the program directly. Otherwise the spawned program
 * is upkeep's own set-up helper (`upkeep exec-job`, lib/process/exec_job.ts): it applies, through
 * libc and in Upstart's order, limits, umask, oom score, nice, chroot + chdir, groups, gid and uid,
 * then execs the program. No other program runs with the daemon's privileges, and nothing is
 * looked up in a PATH the job controls before the privileges are dropped (the helper looks the
 * program up as the job's user, inside its chroot, as Upstart's execvp does).
 */

import type { JobClass, Limit, LimitResource, ProcessKind } from "../job/model.ts";
import { PROCESS_NAMES } from "../job/model.ts";
import type { UserDb } from "./users.ts";

/** How to start upkeep's set-up helper: the argv that runs upkeep, and the helper's environment. */
export interface HelperCommand {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export interface PlanInput {
  readonly job: JobClass;
  readonly kind: ProcessKind;
  /** The complete environment (the caller builds it). */
  readonly env: Readonly<Record<string, string>>;
  /** Console log: append stdout+stderr here (the caller decides the path and creates its dir). */
  readonly logFile: string | null;
  readonly users: UserDb;
  /** The supervisor's own umask: the umask step is skipped when the job's equals it. */
  readonly daemonUmask: number;
  /** The command that runs upkeep itself, for the set-up helper. */
  readonly helper: HelperCommand;
  /**
   * RLIMIT_NOFILE every job process starts with (the limit the daemon was given, before Deno
   * raised its soft limit); the helper applies it before the job's own `limit` stanzas. Without
   * the helper the spawner sets it (lib/process/fast_spawn.ts). Omitted: the spawner's own.
   */
  readonly baseNofile?: { readonly soft: number; readonly hard: number };
  /** upkeep run: stdout and stderr merged into one pipe that the caller reads (overrides console). */
  readonly output?: "pipe";
  /** upkeep run's COMMAND form: run exactly this argv instead of the job's exec/script. */
  readonly command?: readonly string[];
}

export type PlanStdio = "null" | "inherit" | "piped";

export interface ProcessPlan {
  /** argv[0] = program path (or a bare name, looked up in `env.PATH`). */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly stdout: PlanStdio;
  readonly stderr: PlanStdio;
  /** console log: both streams appended here (opened by the spawner: O_NOFOLLOW, mode 0640). */
  readonly logFile?: string;
  /** argv starts upkeep's set-up helper, which execs the job's program once set up. */
  readonly helper: boolean;
  /**
   * A multi-line script, given to the process on fd 9 (argv reads it as `/proc/self/fd/9`, as
   * Upstart runs such scripts); its first line closes fd 9.
   */
  readonly script?: string;
  /**
   * What the process reads on its stdin (fd 0) instead of /dev/null: the set-up helper's job
   * environment (see helperArgv).
   */
  readonly stdin?: Uint8Array;
}

/** A limit value for setrlimit: `-1` = unlimited; past 2^53 the exact decimal text. */
export type SetupLimitValue = number | `${bigint}`;

/** What the set-up helper does before it execs the program (JSON on its command line). */
export interface SetupSpec {
  /** `JOB (INSTANCE) main process`, for messages. */
  readonly what: string;
  /** setrlimit(2) calls in order: resource, soft, hard (`-1` = unlimited). */
  readonly limits: readonly (readonly [LimitResource, SetupLimitValue, SetupLimitValue])[];
  readonly umask: number | null;
  readonly oomScore: number | null;
  readonly nice: number | null;
  readonly chroot: string | null;
  /** Working directory (inside the chroot when there is one). */
  readonly chdir: string;
  /** Supplementary groups (null: leave as they are); set only by a root helper. */
  readonly groups: readonly number[] | null;
  readonly gid: number | null;
  readonly uid: number | null;
  /** stderr goes where stdout goes (upkeep run's single pipe). */
  readonly mergeStderr: boolean;
  /** fd 3 is a pipe to the daemon: a set-up failure is written there before the helper exits. */
  readonly errorFd: boolean;
}

/** The subcommand name of the set-up helper. */
export const EXEC_JOB = "exec-job";
/** The shell Upstart runs scripts and shell-character commands with. */
export const SHELL = "/bin/sh";
/** Linux MAX_ARG_STRLEN: one argv string may hold at most 128 KiB including its NUL. */
export const MAX_ARG_BYTES = 131072 - 1;
/** The descriptor a multi-line script is read from, as Upstart's `/proc/self/fd/9`. */
export const SCRIPT_FD = 9;

/**
 * How the shell gets a script (or an `exec` line with shell characters, as `exec LINE`), as
 * Upstart passes it: a single line (newlines only at its end) on the command line without its
 * trailing newlines (`sh -e -c LINE sh`); more lines on fd 9 (`sh -e /proc/self/fd/9`), after a
 * first line that closes fd 9 (so `$0` and the line numbers in the shell's messages are Upstart's).
 * `viaFd` false: every script on the command line (no fd to hand over).
 */
export function shellCommand(body: string, viaFd: boolean): { argv: string[]; script?: string } {
  const nl = body.indexOf("\n");
  if (nl === -1 || /^\n*$/.test(body.slice(nl))) {
    return { argv: [SHELL, "-e", "-c", nl === -1 ? body : body.slice(0, nl), SHELL] };
  }
  if (!viaFd) return { argv: [SHELL, "-e", "-c", body, SHELL] };
  return {
    argv: [SHELL, "-e", `/proc/self/fd/${SCRIPT_FD}`],
    script: `exec ${SCRIPT_FD}<&-\n${body}`,
  };
}

const SHELL_CHARS = /[~`!$^&*()=|\\{}[\];"'<>?]/;

/** Upstart's rule: does an exec line need the shell? (any of ~`!$^&*()=|\{}[];"'<>? ) */
export function needsShell(command: string): boolean {
  return SHELL_CHARS.test(command);
}

/** Quote a word for /bin/sh (single quotes; `'` becomes `'\''`). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A limit for the helper: `-1` for unlimited, a value past 2^53 as its exact decimal text. */
function limitNumber(v: Limit["soft"]): SetupLimitValue {
  return v === "unlimited" ? -1 : v;
}

/** The oom_score_adj a job asks for, or null for none. */
function oomValue(job: JobClass): number | null {
  if (job.oomScore === null) return null;
  return job.oomScore === "never" ? -1000 : job.oomScore;
}

interface Identity {
  readonly uid: number | null;
  readonly gid: number | null;
  /**
   * Supplementary groups initgroups(3) would give (the primary or setgid group first); null when
   * neither setuid nor setgid.
   */
  readonly groups: readonly number[] | null;
}

function resolveIdentity(job: JobClass, users: UserDb): Identity | { error: string } {
  let uid: number | null = null, gid: number | null = null;
  let groups: number[] | null = null;
  if (job.setuid !== null) {
    const u = users.user(job.setuid);
    if (!u) return { error: `setuid user "${job.setuid}" does not exist` };
    uid = u.uid;
    gid = u.gid;
    groups = [u.gid, ...(users.groupsOf?.(u.name) ?? []).filter((g) => g !== u.gid)];
  }
  if (job.setgid !== null) {
    const g = users.group(job.setgid);
    if (!g) return { error: `setgid group "${job.setgid}" does not exist` };
    gid = g.gid;
    // As Upstart's initgroups(user, group): the group first, then the groups listing the user,
    // who is root for setgid alone (the list is set only by a root helper).
    if (groups) groups = [g.gid, ...groups.slice(1).filter((x) => x !== g.gid)];
    else {
      const root = users.user("0");
      const theirs = root ? users.groupsOf?.(root.name) ?? [] : [];
      groups = [g.gid, ...theirs.filter((x) => x !== g.gid)];
    }
  }
  return { uid, gid, groups };
}

function byteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xdc00 ? (i++, 4) : 3;
  }
  return n;
}

function displayName(job: JobClass, instanceEnv: Readonly<Record<string, string>>): string {
  const inst = instanceEnv.UPSTART_INSTANCE ?? "";
  return inst ? `${job.name} (${inst})` : job.name;
}

/**
 * The helper's command line: `UPKEEP exec-job SPEC PROGRAM ARGS...`. The job's environment is not
 * on it (any local user reads a command line in /proc, and `env` and `set-env` hold credentials):
 * the helper reads it on its stdin (helperStdin), which only root can read through /proc.
 */
export function helperArgv(
  helper: HelperCommand,
  spec: SetupSpec,
  target: readonly string[],
): string[] {
  return [...helper.argv, EXEC_JOB, JSON.stringify(spec), ...target];
}

/**
 * The user and group a process will run as when it is still the set-up helper (its argv, as in
 * /proc/PID/cmdline, holds `exec-job SPEC ...`, helperArgv); null for any other process. For
 * health checks that run as the job's user while the helper is still root. (Here rather than in
 * exec_job.ts: the daemon then does not load the helper's module.)
 */
export function helperIdentity(argv: readonly string[]): { uid: number; gid: number } | null {
  const i = argv.indexOf(EXEC_JOB);
  if (i < 0 || argv[i + 1] === undefined) return null;
  try {
    const spec = JSON.parse(argv[i + 1]!) as Partial<SetupSpec>;
    if (typeof spec.what !== "string") return null;
    return { uid: spec.uid ?? 0, gid: spec.gid ?? 0 };
  } catch {
    return null;
  }
}

/** The helper's stdin: the job's environment, each `KEY=VALUE` ended by a NUL byte. */
export function helperStdin(env: Readonly<Record<string, string>>): Uint8Array {
  let text = "";
  for (const [k, v] of Object.entries(env)) text += `${k}=${v}\0`;
  return new TextEncoder().encode(text);
}

/** How to run one process of a job, or why it cannot be run (a spawn failure). */
export function planProcess(input: PlanInput): { plan: ProcessPlan } | { error: string } {
  const { job, kind } = input;
  const what = PROCESS_NAMES[kind];
  const spec = input.command ? { exec: "" } : job[kind];
  if (!spec) return { error: `job has no ${what} process` };

  // The target: what finally runs (a multi-line script: read from fd 9, except for upkeep run,
  // whose spawner cannot hand over a descriptor, and in a chroot, which may have no /proc).
  let target: string[];
  let script: string | undefined;
  if (input.command) {
    target = [...input.command];
    if (!target.length) return { error: `empty ${what} command` };
  } else {
    const exec = "exec" in spec ? spec.exec : null;
    const body = exec === null
      ? (spec as { script: string }).script
      : needsShell(exec)
      ? `exec ${exec}`
      : null;
    if (body === null) {
      target = exec!.split(/[ \t\r\n]+/).filter(Boolean);
      if (!target.length) return { error: `empty ${what} command` };
    } else {
      const shell = shellCommand(body, input.output !== "pipe" && job.chroot === null);
      target = shell.argv;
      script = shell.script;
      const size = script === undefined ? byteLength(target[3]!) : 0;
      if (size > MAX_ARG_BYTES - 256) {
        return { error: `${what} script too long (${size} bytes; the limit is 128 KiB)` };
      }
    }
  }

  const id = resolveIdentity(job, input.users);
  if ("error" in id) return id;

  let stdout: PlanStdio, stderr: PlanStdio;
  let logFile: string | undefined;
  const pipe = input.output === "pipe";
  if (pipe) {
    [stdout, stderr] = ["piped", "null"];
  } else if (job.console === "log" && input.logFile !== null) {
    [stdout, stderr, logFile] = ["null", "null", input.logFile];
  } else if (job.console === "output" || job.console === "owner") {
    [stdout, stderr] = ["inherit", "inherit"];
  } else {
    [stdout, stderr] = ["null", "null"];
  }
  const withOutput = (p: ProcessPlan): ProcessPlan => {
    const withScript = script === undefined ? p : { ...p, script };
    return logFile ? { ...withScript, logFile } : withScript;
  };

  // Limits: the daemon's original open-files limit first, then the job's own stanzas.
  const limits: [LimitResource, SetupLimitValue, SetupLimitValue][] = [];
  for (const [res, lim] of Object.entries(job.limits) as [LimitResource, Limit | undefined][]) {
    if (lim) limits.push([res, limitNumber(lim.soft), limitNumber(lim.hard)]);
  }
  const umask = job.umask !== input.daemonUmask ? job.umask & 0o777 : null;
  const oomScore = oomValue(job);
  const needsHelper = limits.length > 0 || umask !== null || oomScore !== null ||
    job.nice !== null || job.chroot !== null || id.uid !== null || id.gid !== null;

  if (!needsHelper) {
    const cwd = job.chdir ?? "/";
    if (pipe) {
      // upkeep run: one pipe for both streams, merged by /bin/sh (no privileged step).
      const merge = [SHELL, "-c", 'exec 2>&1; exec "$@"', "upkeep-exec", ...target];
      return { plan: { argv: merge, env: input.env, cwd, stdout, stderr, helper: false } };
    }
    return {
      plan: withOutput({ argv: target, env: input.env, cwd, stdout, stderr, helper: false }),
    };
  }

  if (input.baseNofile && !job.limits.nofile) {
    limits.unshift(["nofile", input.baseNofile.soft, input.baseNofile.hard]);
  }
  const setup: SetupSpec = {
    what: `${displayName(job, input.env)} ${what} process`,
    limits,
    umask,
    oomScore,
    nice: job.nice,
    chroot: job.chroot,
    chdir: job.chdir ?? "/",
    groups: id.groups,
    gid: id.gid,
    uid: id.uid,
    mergeStderr: pipe,
    errorFd: !pipe,
  };
  const argv = helperArgv(input.helper, setup, target);
  const plan: ProcessPlan = {
    argv,
    env: input.helper.env,
    cwd: "/",
    stdout,
    stderr,
    helper: true,
    stdin: helperStdin(input.env),
  };
  return { plan: withOutput(plan) };
}
