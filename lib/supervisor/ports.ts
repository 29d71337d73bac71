/**
 * The supervisor's seams and records: the ports it drives the world through (processes, timers),
 * its options, and the mutable records of job classes and instances that the loop owns. Types only.
 */

import type { JobClass, ProcessKind } from "../job/model.ts";
import type { MatchNode } from "../events/match.ts";
import type { ExitStatus, InstanceState, LogLevel, TimerName } from "./instance.ts";
import type { QueuedEvent } from "./events.ts";
import type { Env } from "./environment.ts";
import type { LogView } from "./status.ts";

/** What the supervisor needs from the process world. */
export interface ProcessPort {
  /** Spawn a process; returns its pid or throws an Error whose message says why. */
  spawn(request: SpawnRequest): number;
  /**
   * Send `signal` to the process group of `pid` (and to `pid` itself); whatever is left of the
   * group `killTimeoutMs` later gets SIGKILL.
   */
  kill(pid: number, signal: string, killTimeoutMs: number): void;
  /** Send `signal` to the one process `pid` (no group, no sweep): `expect stop`'s SIGCONT. */
  signal(pid: number, signal: string): void;
  /**
   * Send `signal` to every process of group `pgid`; `onGone` is called once no live process is
   * left in it (at once when it is already empty). A later call for the same group replaces it.
   */
  killGroup(pgid: number, signal: string, onGone: () => void): void;
  /**
   * Take over a process an earlier daemon started (after a re-exec it is still our child; after a
   * crash it is not): `onExit` hears of its end. False when it is gone, or `start` (its start
   * time when it was recorded) says the pid now belongs to another process.
   */
  adopt(
    pid: number,
    start: number | null,
    main: boolean,
    onExit: (pid: number, status: ExitStatus, strays: number | null) => void,
  ): boolean;
  /** Is `pid` a process adopted from an earlier daemon that is not our child? */
  isAdopted?(pid: number): boolean;
  /**
   * Is `pid`, just spawned, upkeep's set-up helper that has yet to exec the job's program? Then
   * the request's `onExec` or `onSetupFailed` follows.
   */
  awaitingExec?(pid: number): boolean;
  /** Collect processes that ended (what SIGCHLD triggers); optional for fakes. */
  reap?(): void;
  /**
   * The process group a main process that ended while no daemon ran left members in (as the
   * strays of an exit), or null.
   */
  lostGroup?(pid: number, start: number | null): number | null;
  /**
   * The process an earlier daemon spawned and was killed before it could record (kill -9 mostly
   * lands in a spawn, which it waits in until the child has exec'd): see UnrecordedQuery. Null
   * when there is none, or more than one.
   */
  findUnrecorded?(
    queries: readonly (UnrecordedQuery | null)[],
    known: ReadonlySet<number>,
  ): ({ pid: number; start: number } | null)[];
}

/**
 * What tells a job's unrecorded process: a session leader (every job process starts a session)
 * started no earlier than `since` (ticks since boot: the earlier daemon's own start), whose pid no
 * record holds (`known`), whose environment names this job, instance and daemon socket as upkeep gives
 * them, and, unless `anyUser` (a job with setuid/setgid), of this daemon's user (a local user
 * cannot make a process pass for a root job's).
 */
export interface UnrecordedQuery {
  readonly job: string;
  readonly instance: string;
  readonly socket: string;
  readonly since: number;
  readonly anyUser: boolean;
}

export interface SpawnRequest {
  readonly job: JobClass;
  readonly instance: string;
  readonly kind: ProcessKind;
  readonly env: Env;
  readonly logFile: string | null;
  /** console log through the daemon: the FIFO the process writes to (null: `logFile` itself). */
  readonly logPipe?: string | null;
  /**
   * A process of this spawn ended: the spawned one, or the daemon it forked (`onForked`).
   * `strays`: for a main process, its process group when live members are left in it, else null.
   */
  readonly onExit: (pid: number, status: ExitStatus, strays: number | null) => void;
  /**
   * expect fork/daemon (main only): the followed process forked; `pid` is the main process now,
   * `final` once it is the daemon (no more forks to follow).
   */
  readonly onForked?: (pid: number, final: boolean) => void;
  /** expect stop (main only): the process stopped itself (SIGSTOP) and waits for SIGCONT. */
  readonly onStopped?: () => void;
  /** The set-up helper `pid` exec'd the job's program (see ProcessPort.awaitingExec). */
  readonly onExec?: (pid: number) => void;
  /**
   * The set-up helper `pid` could not set the process up or exec its program (`message`, the
   * system's words) and has ended: a spawn failure, reported instead of `onExit`.
   */
  readonly onSetupFailed?: (pid: number, message: string) => void;
}

/**
 * The job-output pipeline (lib/log/job_logs.ts): `console log` output goes through a pipe the
 * daemon reads (rotation, timestamps, markers, a full disk survived).
 */
export interface LogPort {
  /** The pipe the processes of this instance write to, or null (then they write `logFile`). */
  attach(job: JobClass, instance: string): string | null;
  /** A process started (`main process (123) started`). */
  started(job: JobClass, instance: string, text: string): void;
  /** A process ended (`main process (123) terminated with status 1`). */
  ended(job: JobClass, instance: string, text: string): void;
  /** The instance is gone. */
  detach(job: JobClass, instance: string): void;
  view(job: JobClass, instance: string): LogView | null;
}

export interface TimerPort {
  now(): number;
  set(ms: number, fn: () => void): number;
  clear(id: number): void;
  /** Run `fn` in a task of its own, as soon as the event loop has served what is ready (set(0, fn) when absent). */
  soon?(fn: () => void): void;
}

export interface SupervisorOptions {
  readonly processes: ProcessPort;
  readonly timers: TimerPort;
  /** The daemon log: `level` says how much the line matters, `job` keys the rate limit. */
  readonly log: (message: string, level?: LogLevel, job?: string) => void;
  readonly logDir: string;
  /** The daemon's job environment (PATH, TERM, set-env). Mutable through set-env. */
  readonly jobEnv: Env;
  /** Extra variables every job process gets (socket path, PATH of the initctl shims ...). */
  readonly processEnv: Readonly<Env>;
  /** Directory of the initctl/start/stop... shims, put first on every job process's PATH. */
  readonly shimDir?: string;
  /** Job output through the daemon (absent: jobs write their log files themselves). */
  readonly logs?: LogPort;
  /** Told of every change worth keeping across a restart of the daemon (lib/supervisor/recorder.ts). */
  readonly recorder?: {
    instanceChanged(inst: Instance, urgent?: boolean): void;
    /** A process started (spawned, or the daemon a followed fork made): written at once. */
    processStarted?(inst: Instance, kind: ProcessKind, pid: number, withRecord?: boolean): void;
    processChanged(inst: Instance, kind: ProcessKind, pid: number | null, old?: number): void;
    classChanged(cls: JobClassEntry, name: string, urgent?: boolean): void;
  };
}

/** A caller waiting for an instance to reach its rest state (initctl start/stop/restart). */
export type Waiter = (failed: boolean) => void;

export type Blocked = { readonly event: QueuedEvent } | { readonly waiter: Waiter };

export interface Instance {
  readonly cls: JobClassEntry;
  /** The definition this instance runs with (kept until it stops, even if the file changed). */
  job: JobClass;
  readonly name: string;
  st: InstanceState;
  env: Env;
  pendingEnv: Env | null;
  stopEnv: Env | null;
  stopMatch: MatchNode | null;
  blocking: Blocked[];
  blocker: QueuedEvent | null;
  timers: Partial<Record<TimerName, number>>;
  /** When each armed timer fires (clock ms), to carry it over a restart. */
  timerDue: Partial<Record<TimerName, number>>;
  /** When the pending respawn delay ends (clock ms), or null. */
  respawnAt: number | null;
  /** Consecutive quick failures, for `respawn delay`. */
  backoff: number;
  /** Consecutive spawns of the main process that failed (0 once one succeeds). */
  spawnFailures: number;
  destroyed: boolean;
}

export interface JobClassEntry {
  job: JobClass;
  readonly instances: Map<string, Instance>;
  startMatch: MatchNode | null;
  /** The file was removed: drop the class once its last instance stops. */
  deleted: boolean;
  /** The file changed while instances run: the definition to take when the last one stops. */
  pending?: JobClass | null;
  /**
   * `respawn retry`: the pending start of each instance that gave up (timer, when it is due).
   * Made at the first (most classes never have one: the two empty Maps took ~0.4 KB a class).
   */
  retries?: Map<
    string,
    { readonly timer: number; readonly at: number; readonly env: Env }
  >;
  /**
   * The last failure of each instance (by name): a failed start or stop, a spawn that failed, a
   * respawn limit; kept after the instance is gone, cleared when it runs again. `at`: clock ms.
   * Made at the first.
   */
  failures?: Map<string, { readonly message: string; readonly at: number }>;
}
