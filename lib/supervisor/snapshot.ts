/**
 * The supervisor's state as plain data, to survive a restart of the daemon: per instance its
 * definition, goal and state, processes (pid plus the start time /proc gives it, so a reused pid
 * is never mistaken for ours), environments, half-matched `stop on`, respawn window and
 * counters, back-off, pending timers; per job class its half-matched `start on`, pending
 * `respawn retry` starts and last failures; and the daemon's job environment.
 *
 * Times in the supervisor are of a monotonic clock that starts again with every process, so the
 * records hold wall-clock milliseconds: `wall = clock + offset` on the way out, and back on the
 * way in with the new process's offset.
 *
 * Pure: no Deno APIs.
 */

import { defaultJob, type JobClass, PROCESS_ORDER, type ProcessKind } from "../job/model.ts";
import { TRANSITIONS } from "./transitions.ts";
import type { MatchNode } from "../events/match.ts";
import type { InstanceState } from "./instance.ts";
import type { Env } from "./environment.ts";
import type { HealthView } from "./status.ts";

/** The version of the record format (bumped when a field changes meaning). */
export const SNAPSHOT_VERSION = 1;

/** A process of an instance: pid and its start time (field 22 of /proc/PID/stat, clock ticks). */
export interface ProcessRecord {
  readonly pid: number;
  readonly start: number | null;
}

export interface InstanceRecord {
  readonly v: number;
  readonly job: JobClass;
  readonly name: string;
  /** InstanceState with `since`, `mainStartedAt`, `respawnWindow.start` in wall-clock ms. */
  readonly st: InstanceState;
  readonly procs: Partial<Record<ProcessKind, ProcessRecord>>;
  readonly env: Env;
  readonly pendingEnv: Env | null;
  readonly stopEnv: Env | null;
  readonly stopMatch: MatchNode | null;
  readonly backoff: number;
  /** Wall-clock ms when the respawn delay ends, or null. */
  readonly respawnAt: number | null;
  /** Wall-clock ms when this record's kill timer fires (the instance is being killed), or null. */
  readonly killAt: number | null;
  /** Wall-clock ms when the wait for `expect` runs out, or null. */
  readonly expectAt: number | null;
  readonly health: { readonly view: HealthView | null; readonly unhealthy: number | null } | null;
}

export interface ClassRecord {
  readonly v: number;
  readonly name: string;
  /** The `start on` the match belongs to (JSON): a changed job file drops a stale half-match. */
  readonly startOn: string;
  readonly startMatch: MatchNode | null;
  /** Pending `respawn retry` starts: instance name, when (wall ms), and its environment. */
  readonly retries: readonly { readonly name: string; readonly at: number; readonly env: Env }[];
  readonly failures: readonly {
    readonly name: string;
    readonly message: string;
    readonly at: number;
  }[];
}

export interface DaemonRecord {
  readonly v: number;
  readonly pid: number;
  /** The daemon's own start time (ticks): with pid, tells a re-exec (same process) from a restart. */
  readonly start: number | null;
  /** /proc/sys/kernel/random/boot_id: records of an earlier boot are not restored. */
  readonly bootId: string;
  readonly jobEnv: Env;
  /** Wall-clock ms when written. */
  readonly at: number;
  /**
   * The boot events are emitted (or about to be) but what they started is not all recorded yet:
   * a daemon that finds this emits them again (a kill -9 at that moment would otherwise leave
   * every `start on startup` job unstarted for good).
   */
  readonly bootPending?: boolean;
}

/** InstanceState times between the monotonic clock and wall-clock ms. */
export function shiftTimes(st: InstanceState, by: number): InstanceState {
  return {
    ...st,
    since: st.since + by,
    mainStartedAt: st.mainStartedAt === null ? null : st.mainStartedAt + by,
    respawnWindow: {
      start: st.respawnWindow.count === 0 && st.respawnWindow.start === 0
        ? 0
        : st.respawnWindow.start + by,
      count: st.respawnWindow.count,
    },
  };
}

/**
 * Is `value` a record of the current version, with every field a restore and the state machine
 * use of the right type? A record garbled into other JSON (a bit flip, a hand edit) is left out
 * and named, rather than stopping the restore of the others (or the daemon) half way.
 */
export function isInstanceRecord(value: unknown): value is InstanceRecord {
  const r = value as Record<string, unknown> | null;
  if (!isObject(r) || r.v !== SNAPSHOT_VERSION || typeof r.name !== "string") return false;
  if (!isJob(r.job) || !isInstanceState(r.st) || !isEnv(r.env)) return false;
  if (!isObject(r.procs)) return false;
  for (const [kind, p] of Object.entries(r.procs)) {
    if (!KINDS.has(kind) || !isObject(p) || !isPid(p.pid) || !isNumberOrNull(p.start)) return false;
  }
  return (r.pendingEnv === null || isEnv(r.pendingEnv)) &&
    (r.stopEnv === null || isEnv(r.stopEnv)) &&
    (r.stopMatch === null || isMatchNode(r.stopMatch)) && typeof r.backoff === "number" &&
    isNumberOrNull(r.respawnAt) && isNumberOrNull(r.killAt) && isNumberOrNull(r.expectAt) &&
    (r.health === null || isObject(r.health));
}

/**
 * The main process an instance record that fails isInstanceRecord still names, when the record
 * still says readably that the instance was to run (`st.goal` "start") with no fork left to
 * follow (`st.forksLeft` 0: the process is the job's for good), and gives that process a valid pid
 * and its start time: what a daemon can take over from a garbled record (else its process would
 * run on unsupervised while the job looked stopped). The start time is required: the pid of a
 * garbled record is taken over only when the process with it started when the record says
 * (adopt checks), never on the pid alone. Null otherwise. Pure.
 */
export function salvageMain(value: unknown): ProcessRecord | null {
  const r = value as Record<string, unknown> | null;
  if (!isObject(r) || !isObject(r.st) || !isObject(r.procs)) return null;
  if (r.st.goal !== "start" || r.st.forksLeft !== 0) return null;
  const main = r.procs.main;
  if (!isObject(main) || !isPid(main.pid) || typeof main.start !== "number") return null;
  return { pid: main.pid as number, start: main.start };
}

/**
 * The environment a garbled instance record (see salvageMain) still holds readably (an object of
 * strings), or null: the salvaged main is respawned with it, as the job was started (an instance
 * job's `$N`, a `start JOB KEY=VALUE`), not with none. Pure.
 */
export function salvageEnv(value: unknown): Env | null {
  const r = value as Record<string, unknown> | null;
  return isObject(r) && isEnv(r.env) ? r.env as Env : null;
}

export function isClassRecord(value: unknown): value is ClassRecord {
  const r = value as Record<string, unknown> | null;
  return isObject(r) && r.v === SNAPSHOT_VERSION && typeof r.name === "string" &&
    typeof r.startOn === "string" && (r.startMatch === null || isMatchNode(r.startMatch)) &&
    Array.isArray(r.retries) &&
    r.retries.every((x) =>
      isObject(x) && typeof x.name === "string" && typeof x.at === "number" && isEnv(x.env)
    ) &&
    Array.isArray(r.failures) &&
    r.failures.every((x) =>
      isObject(x) && typeof x.name === "string" && typeof x.message === "string" &&
      typeof x.at === "number"
    );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const isNumberOrNull = (v: unknown) => v === null || typeof v === "number";
const isPid = (v: unknown) => Number.isInteger(v) && (v as number) > 0;

const KINDS: ReadonlySet<string> = new Set(PROCESS_ORDER);
const STATES: ReadonlySet<string> = new Set(Object.keys(TRANSITIONS));
const GOALS: ReadonlySet<string> = new Set(["start", "stop", "respawn"]);
const EXPECTS: ReadonlySet<string> = new Set(["none", "fork", "daemon", "stop"]);

function isEnv(v: unknown): boolean {
  return isObject(v) && Object.values(v).every((x) => typeof x === "string");
}

function isInstanceState(v: unknown): boolean {
  if (!isObject(v) || !GOALS.has(v.goal as string) || !STATES.has(v.state as string)) return false;
  if (!isObject(v.pids) || !Object.entries(v.pids).every(([k, p]) => KINDS.has(k) && isPid(p))) {
    return false;
  }
  const w = v.respawnWindow;
  return isObject(w) && typeof w.start === "number" && typeof w.count === "number" &&
    typeof v.since === "number" && typeof v.respawns === "number" &&
    typeof v.forksLeft === "number" && typeof v.respawnDelay === "number" &&
    typeof v.blocked === "boolean" && typeof v.execPending === "boolean" &&
    isNumberOrNull(v.mainStartedAt) && (v.strays === null || isPid(v.strays)) &&
    (v.failure === null || isObject(v.failure)) && (v.lastExit === null || isObject(v.lastExit));
}

/** A half-matched event expression (events/match.ts). */
function isMatchNode(v: unknown, depth = 0): boolean {
  if (!isObject(v) || depth > 100) return false;
  if (v.type === "event") return isObject(v.operand) && (v.event === null || isObject(v.event));
  return (v.type === "and" || v.type === "or") && typeof v.value === "boolean" &&
    isMatchNode(v.left, depth + 1) && isMatchNode(v.right, depth + 1);
}

/** Fields of a job definition whose value may also be null (or another type) than its default. */
const LOOSE_JOB_FIELDS: ReadonlySet<string> = new Set(["respawnLimit", "oomScore"]);
const JOB_TEMPLATE = defaultJob("", "") as unknown as Record<string, unknown>;

/** A job definition: every field of one, each of the type its default has (or null). */
function isJob(v: unknown): boolean {
  if (!isObject(v) || typeof v.name !== "string" || !EXPECTS.has(v.expect as string)) return false;
  for (const [key, dflt] of Object.entries(JOB_TEMPLATE)) {
    const x = v[key];
    if (!(key in v)) return false;
    if (LOOSE_JOB_FIELDS.has(key) || dflt === null) {
      if (x !== null && typeof x !== "string" && typeof x !== "number" && typeof x !== "object") {
        return false;
      }
    } else if (Array.isArray(dflt)) {
      if (!Array.isArray(x)) return false;
    } else if (typeof dflt === "object") {
      if (!isObject(x)) return false;
    } else if (typeof x !== typeof dflt) return false;
  }
  for (const key of ["startOn", "stopOn", "main", "preStart", "postStart", "preStop", "postStop"]) {
    if (v[key] !== null && !isObject(v[key])) return false;
  }
  return true;
}

export function isDaemonRecord(value: unknown): value is DaemonRecord {
  const r = value as Partial<DaemonRecord> | null;
  return typeof r === "object" && r !== null && r.v === SNAPSHOT_VERSION &&
    typeof r.pid === "number" && typeof r.jobEnv === "object" && r.jobEnv !== null;
}
