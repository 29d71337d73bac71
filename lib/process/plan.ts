/**
 * How to run one process of a job: the argv, environment, working directory, identity and stdio
 * that carry out the job's `exec`/`script`, `console`, `umask`, `nice`, `limit`, `oom score`,
 * `chroot`, `chdir`, `setuid` and `setgid` stanzas. Pure: no Deno APIs, no I/O.
 *
 * The common case (no stanza that Deno.Command cannot do itself) has no wrapper: the program is
 * exec'd directly. Otherwise ONE `/bin/sh` wrapper runs the privileged pre-exec steps in Upstart's
 * order (console redirect, umask, oom score, then an exec chain of `prlimit`, `nice`, `chroot`,
 * `setpriv`) and ends with `exec "$@"`. When the target itself runs under `/bin/sh -e -c` and no
 * exec chain is needed, the steps are folded into that shell's command line (one exec saved).
 */

import type { JobClass, Limit, LimitResource, ProcessKind } from "../job/model.ts";
import { PROCESS_NAMES } from "../job/model.ts";
import type { UserDb } from "./users.ts";

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
  /** upkeep run: stdout and stderr merged into one pipe that the caller reads (overrides console). */
  readonly output?: "pipe";
  /** upkeep run's COMMAND form: run exactly this argv instead of the job's exec/script. */
  readonly command?: readonly string[];
}

export type PlanStdio = "null" | "inherit" | "piped";

export interface ProcessPlan {
  /** argv[0] = program path (or a bare name, looked up in `env.PATH` by Deno.Command). */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly stdout: PlanStdio;
  readonly stderr: PlanStdio;
}

/** The shell Upstart runs scripts and shell-character commands with. */
export const SHELL = "/bin/sh";
/** `$0` of the generated wrapper (visible in `ps` for the instant before it execs). */
export const WRAPPER_NAME = "upkeep-exec";
/** Linux MAX_ARG_STRLEN: one argv string may hold at most 128 KiB including its NUL. */
export const MAX_ARG_BYTES = 131072 - 1;

const SHELL_CHARS = /[~`!$^&*()=|\\{}[\];"'<>?]/;

/** Upstart's rule: does an exec line need the shell? (any of ~`!$^&*()=|\{}[];"'<>? ) */
export function needsShell(command: string): boolean {
  return SHELL_CHARS.test(command);
}

/** Quote a word for /bin/sh (single quotes; `'` becomes `'\''`). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

function limitValue(v: Limit["soft"]): string {
  return v === "unlimited" ? "unlimited" : String(v);
}

/** `prlimit` options for the job's limits, in LIMIT_RESOURCES order (prlimit covers all 14). */
export function prlimitArgs(limits: JobClass["limits"]): string[] {
  const out: string[] = [];
  for (const [res, lim] of Object.entries(limits) as [LimitResource, Limit | undefined][]) {
    if (lim) out.push(`--${res}=${limitValue(lim.soft)}:${limitValue(lim.hard)}`);
  }
  return out;
}

/** The oom_score_adj a job asks for, or null for none. */
function oomValue(job: JobClass): number | null {
  if (job.oomScore === null) return null;
  return job.oomScore === "never" ? -1000 : job.oomScore;
}

interface Identity {
  readonly uid?: number;
  readonly gid?: number;
  /** Supplementary groups initgroups(3) would give (primary first); [] when none. */
  readonly groups: readonly number[];
}

function resolveIdentity(job: JobClass, users: UserDb): Identity | { error: string } {
  let uid: number | undefined, gid: number | undefined;
  let groups: number[] = [];
  if (job.setuid !== null) {
    const u = users.user(job.setuid);
    if (!u) return { error: `setuid user "${job.setuid}" does not exist` };
    uid = u.uid;
    gid = u.gid;
    const extra = (users.groupsOf?.(u.name) ?? []).filter((g) => g !== u.gid);
    groups = extra.length ? [u.gid, ...extra] : [];
  }
  if (job.setgid !== null) {
    const g = users.group(job.setgid);
    if (!g) return { error: `setgid group "${job.setgid}" does not exist` };
    gid = g.gid;
    if (groups.length) groups = [g.gid, ...groups.slice(1).filter((x) => x !== g.gid)];
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

/** How to run one process of a job, or why it cannot be run (a spawn failure). */
export function planProcess(input: PlanInput): { plan: ProcessPlan } | { error: string } {
  const { job, kind } = input;
  const what = PROCESS_NAMES[kind];
  const spec = input.command ? { exec: "" } : job[kind];
  if (!spec) return { error: `job has no ${what} process` };

  // The target: what finally runs.
  let target: string[];
  let shellBody: string | null = null;
  if (input.command) {
    target = [...input.command];
    if (!target.length) return { error: `empty ${what} command` };
  } else if ("script" in spec) {
    shellBody = spec.script;
  } else if (needsShell(spec.exec)) {
    shellBody = `exec ${spec.exec}`;
  } else {
    target = spec.exec.split(/[ \t\r\n]+/).filter(Boolean);
    if (!target.length) return { error: `empty ${what} command` };
  }
  if (shellBody !== null) {
    const size = byteLength(shellBody);
    if (size > MAX_ARG_BYTES - 256) {
      return { error: `${what} script too long (${size} bytes; the limit is 128 KiB)` };
    }
    target = [SHELL, "-e", "-c", shellBody, SHELL];
  }

  const id = resolveIdentity(job, input.users);
  if ("error" in id) return id;
  const dropsPrivileges = id.uid !== undefined || id.gid !== undefined;

  // Steps the wrapper shell runs itself, as the supervisor's user, in Upstart's order.
  const prelude: string[] = [];
  let stdout: PlanStdio, stderr: PlanStdio;
  if (input.output === "pipe") {
    prelude.push("exec 2>&1");
    [stdout, stderr] = ["piped", "null"];
  } else if (job.console === "log" && input.logFile !== null) {
    prelude.push(`exec >>${shellQuote(input.logFile)} 2>&1`);
    [stdout, stderr] = ["null", "inherit"]; // a failed log open is reported on our stderr
  } else if (job.console === "output" || job.console === "owner") {
    [stdout, stderr] = ["inherit", "inherit"];
  } else {
    [stdout, stderr] = ["null", "null"];
  }
  if (job.umask !== input.daemonUmask) {
    prelude.push(`umask ${(job.umask & 0o777).toString(8).padStart(4, "0")}`);
  }
  const oom = oomValue(job);
  if (oom !== null) {
    prelude.push(
      `{ echo ${oom} >/proc/self/oom_score_adj; } 2>/dev/null || ` +
        `echo 'upkeep: ${what}: cannot set oom score ${oom} (continuing)' >&2`,
    );
  }

  // Programs exec'd in a chain before the target, each applying one setting then exec'ing on.
  const chain: string[][] = [];
  const limits = prlimitArgs(job.limits);
  if (limits.length) chain.push(["prlimit", ...limits, "--"]);
  if (job.nice !== null) chain.push(["nice", "-n", String(job.nice), "--"]);
  let cwd = job.chdir ?? "/";
  let uid: number | undefined, gid: number | undefined;
  if (job.chroot !== null) {
    const userspec: string[] = [];
    if (dropsPrivileges) {
      const g = id.gid ?? 0;
      userspec.push(
        `--userspec=${id.uid ?? 0}:${g}`,
        `--groups=${(id.groups.length ? id.groups : [g]).join(",")}`,
      );
    }
    chain.push(["chroot", ...userspec, "--", job.chroot]);
    if (job.chdir !== null && job.chdir !== "/") {
      chain.push([SHELL, "-c", 'cd "$1" || exit 1; shift; exec "$@"', "upkeep-chdir", job.chdir]);
    }
    cwd = "/";
  } else if (dropsPrivileges) {
    const needWrapper = prelude.length > 0 || chain.length > 0 || id.groups.length > 0;
    if (needWrapper) {
      const opts: string[] = [];
      if (id.uid !== undefined) opts.push(`--reuid=${id.uid}`);
      if (id.gid !== undefined) opts.push(`--regid=${id.gid}`);
      opts.push(id.groups.length ? `--groups=${id.groups.join(",")}` : "--clear-groups");
      chain.push(["setpriv", ...opts, "--"]);
    } else {
      [uid, gid] = [id.uid, id.gid];
    }
  }

  let argv: string[];
  if (!prelude.length && !chain.length) {
    argv = target!;
  } else if (!chain.length && shellBody !== null) {
    argv = [SHELL, "-e", "-c", `${prelude.join("; ")}; ${shellBody}`, SHELL];
  } else {
    const exec = ["exec", ...chain.flat().map(shellQuote), '"$@"'].join(" ");
    argv = [SHELL, "-c", [...prelude, exec].join("\n"), WRAPPER_NAME, ...target!];
  }
  const plan: ProcessPlan = { argv, env: input.env, cwd, stdout, stderr };
  return {
    plan: uid !== undefined || gid !== undefined ? { ...plan, uid, gid } : plan,
  };
}
