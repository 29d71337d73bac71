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

import type { JobClass, ProcessKind } from "../job/model.ts";
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

/** Is `value` a record of the current version with the fields a restore needs? */
export function isInstanceRecord(value: unknown): value is InstanceRecord {
  const r = value as Partial<InstanceRecord> | null;
  return typeof r === "object" && r !== null && r.v === SNAPSHOT_VERSION &&
    typeof r.name === "string" && typeof r.job === "object" && r.job !== null &&
    typeof r.job.name === "string" && typeof r.st === "object" && r.st !== null &&
    typeof r.st.state === "string" && typeof r.st.goal === "string" &&
    typeof r.procs === "object" && r.procs !== null && typeof r.env === "object";
}

export function isClassRecord(value: unknown): value is ClassRecord {
  const r = value as Partial<ClassRecord> | null;
  return typeof r === "object" && r !== null && r.v === SNAPSHOT_VERSION &&
    typeof r.name === "string" && Array.isArray(r.retries) && Array.isArray(r.failures);
}

export function isDaemonRecord(value: unknown): value is DaemonRecord {
  const r = value as Partial<DaemonRecord> | null;
  return typeof r === "object" && r !== null && r.v === SNAPSHOT_VERSION &&
    typeof r.pid === "number" && typeof r.jobEnv === "object" && r.jobEnv !== null;
}
