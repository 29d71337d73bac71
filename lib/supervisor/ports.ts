/**
 * The supervisor's seams and records: the ports it drives the world through (processes, timers),
 * its options, and the mutable records of job classes and instances that the loop owns. Types only.
 */

import type { JobClass, ProcessKind } from "../job/model.ts";
import type { MatchNode } from "../events/match.ts";
import type { ExitStatus, InstanceState } from "./instance.ts";
import type { QueuedEvent } from "./events.ts";
import type { Env } from "./environment.ts";

/** What the supervisor needs from the process world. */
export interface ProcessPort {
  /** Spawn a process; returns its pid or throws an Error whose message says why. */
  spawn(request: SpawnRequest): number;
  /**
   * Send `signal` to the process group of `pid` (and to `pid` itself); whatever is left of the
   * group `killTimeoutMs` later gets SIGKILL.
   */
  kill(pid: number, signal: string, killTimeoutMs: number): void;
  /**
   * expect fork/daemon: the child of `parent` to follow (reparented to us), or null; `final` when
   * it is not a session leader (so not the intermediate of a classic double fork).
   */
  findFork(parent: number, job: string, instance: string): { pid: number; final: boolean } | null;
  /** Report the exit of a process we did not spawn (a followed fork) through `onExit`. */
  watch(pid: number, onExit: (status: ExitStatus) => void): void;
}

export interface SpawnRequest {
  readonly job: JobClass;
  readonly instance: string;
  readonly kind: ProcessKind;
  readonly env: Env;
  readonly logFile: string | null;
  readonly onExit: (status: ExitStatus) => void;
}

export interface TimerPort {
  now(): number;
  set(ms: number, fn: () => void): number;
  clear(id: number): void;
}

export interface SupervisorOptions {
  readonly processes: ProcessPort;
  readonly timers: TimerPort;
  readonly log: (message: string) => void;
  readonly logDir: string;
  /** The daemon's job environment (PATH, TERM, set-env). Mutable through set-env. */
  readonly jobEnv: Env;
  /** Extra variables every job process gets (socket path, PATH of the initctl shims …). */
  readonly processEnv: Readonly<Env>;
  /** Directory of the initctl/start/stop… shims, put first on every job process's PATH. */
  readonly shimDir?: string;
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
  timers: { kill?: number; respawn?: number };
  /** Consecutive quick failures, for `respawn delay`. */
  backoff: number;
  destroyed: boolean;
}

export interface JobClassEntry {
  job: JobClass;
  readonly instances: Map<string, Instance>;
  startMatch: MatchNode | null;
  /** The file was removed: drop the class once its last instance stops. */
  deleted: boolean;
  /** `respawn retry`: the pending start of each instance that gave up (timer ids by name). */
  readonly retries: Map<string, number>;
}
