/**
 * Status lines exactly as Upstart's initctl prints them, and the JSON form of an instance. Pure.
 *
 *   NAME[ (INSTANCE)] GOAL/STATE[, process PID]
 *   \tPROCESS process PID            (one line per further live process)
 */

import type { ProcessKind } from "../job/model.ts";
import { PROCESS_NAMES, PROCESS_ORDER } from "../job/model.ts";
import type { ExitStatus, Goal, State } from "./instance.ts";

export interface InstanceView {
  readonly job: string;
  readonly instance: string;
  readonly goal: Goal;
  readonly state: State;
  readonly pids: Readonly<Partial<Record<ProcessKind, number>>>;
  readonly since: number;
  readonly respawns: number;
  readonly lastExit: ExitStatus | null;
  readonly logFile: string | null;
  readonly health: HealthView | null;
  /** The last failure (clock ms) and when the next try is due (clock ms), or null. */
  readonly failure?: FailureView | null;
  /** The log pipeline's view of the instance's log (console log), or null. */
  readonly log?: LogView | null;
  /** The main process was taken over from an earlier daemon and is not our child. */
  readonly adopted?: boolean;
}

/** A `console log` instance's log as the daemon writes it (lib/log). */
export interface LogView {
  readonly file: string;
  /** Why it cannot be written now (`cannot write log F: No space left on device`), or null. */
  readonly error: string | null;
  /** Since when it cannot (Unix ms), or null. */
  readonly since: number | null;
  /** Output dropped meanwhile. */
  readonly droppedLines: number;
  readonly droppedBytes: number;
}

/** `, log failing: No space left on device` while a log cannot be written; "" otherwise. */
export function formatLog(log: LogView | null | undefined): string {
  if (!log?.error) return "";
  const i = log.error.lastIndexOf(": ");
  return `, log failing: ${i >= 0 ? log.error.slice(i + 2) : log.error}`;
}

/** The `--json` field `logError` (null while the log is written). */
export function logErrorJson(
  log: LogView | null | undefined,
): { message: string; since: string; droppedLines: number; droppedBytes: number } | null {
  if (!log?.error) return null;
  return {
    message: log.error,
    since: new Date(log.since ?? 0).toISOString(),
    droppedLines: log.droppedLines,
    droppedBytes: log.droppedBytes,
  };
}

export interface FailureView {
  readonly message: string;
  readonly at: number;
  readonly nextTry: number | null;
}

/**
 * upkeep's addition while a failed job waits for its next try (`respawn delay`, `respawn
 * retry`): `, next try in 8s: respawning too fast (last: terminated with status 3)`. Nothing
 * otherwise, so plain Upstart jobs print exactly what Upstart prints.
 */
export function formatNextTry(failure: FailureView | null | undefined, now: number): string {
  if (!failure || failure.nextTry === null) return "";
  const s = Math.max(0, Math.ceil((failure.nextTry - now) / 1000));
  return `, next try in ${s}s: ${failure.message}`;
}

/** The `--json` fields of a failure (`lastFailure`, `nextTry`), times as ISO dates. */
export function failureJson(
  failure: FailureView | null | undefined,
  wallOffsetMs: number,
): { lastFailure: { message: string; at: string } | null; nextTry: string | null } {
  const iso = (t: number) => new Date(t + wallOffsetMs).toISOString();
  return {
    lastFailure: failure ? { message: failure.message, at: iso(failure.at) } : null,
    nextTry: failure && failure.nextTry !== null ? iso(failure.nextTry) : null,
  };
}

export interface HealthView {
  readonly healthy: boolean;
  readonly failures: number;
  readonly detail: string;
  readonly at: number;
}

/** `job`, or `job (instance)` when the instance name is not empty. */
export function displayName(job: string, instance: string): string {
  return instance ? `${job} (${instance})` : job;
}

/** Upstart's status line(s) for one instance. `extra` is appended to the first line (health). */
export function formatStatus(view: InstanceView, extra = ""): string {
  const live = PROCESS_ORDER.filter((k) => view.pids[k] !== undefined);
  let line = `${displayName(view.job, view.instance)} ${view.goal}/${view.state}`;
  const [first, ...rest] = live;
  if (first !== undefined) {
    const pid = view.pids[first];
    line += first === "main" || first === "preStart" || first === "postStop"
      ? `, process ${pid}`
      : `, (${PROCESS_NAMES[first]}) process ${pid}`;
  }
  line += extra;
  for (const kind of rest) line += `\n\t${PROCESS_NAMES[kind]} process ${view.pids[kind]}`;
  return line;
}

/** The line for a job class that has no instance. */
export function formatStopped(job: string): string {
  return `${job} stop/waiting`;
}

/** `, healthy` / `, unhealthy: 3 failures: HTTP 503` (upkeep's addition to the status line). */
export function formatHealth(health: HealthView | null): string {
  if (!health) return "";
  return health.healthy
    ? ", healthy"
    : `, unhealthy: ${health.failures} failure${
      health.failures === 1 ? "" : "s"
    }: ${health.detail}`;
}

/** The `--json` object of an instance (`since` as an ISO date given the wall-clock offset). */
export function statusJson(view: InstanceView, wallOffsetMs: number): Record<string, unknown> {
  return {
    name: view.job,
    instance: view.instance,
    goal: view.goal,
    state: view.state,
    pid: view.pids.main ?? null,
    processes: Object.fromEntries(
      PROCESS_ORDER.filter((k) => view.pids[k] !== undefined).map((k) => [
        PROCESS_NAMES[k],
        view.pids[k],
      ]),
    ),
    since: new Date(view.since + wallOffsetMs).toISOString(),
    respawns: view.respawns,
    lastExit: view.lastExit
      ? (view.lastExit.signal !== null
        ? { signal: view.lastExit.signal }
        : { status: view.lastExit.code })
      : null,
    logFile: view.logFile,
    logError: logErrorJson(view.log),
    health: view.health,
    ...failureJson(view.failure, wallOffsetMs),
    adopted: view.adopted === true,
  };
}
