/**
 * Keeps the on-disk records (StateStore) in step with the supervisor, so that a daemon started
 * after this one (a re-exec, or after a crash or kill -9) finds every job as it was. The
 * supervisor says what changed; the records of everything that changed are built and written
 * once per turn, and at most every FLUSH_INTERVAL_MS while things change fast (a crash loop), so
 * recording costs next to nothing when idle and stays bounded in a storm.
 */

import type { Instance, JobClassEntry } from "./ports.ts";
import type { StateStore } from "./state_store.ts";
import {
  type ClassRecord,
  type InstanceRecord,
  type ProcessRecord,
  shiftTimes,
  SNAPSHOT_VERSION,
} from "./snapshot.ts";
import type { ProcessKind } from "../job/model.ts";
import type { HealthView } from "./status.ts";
import type { Env } from "./environment.ts";

/** Minimum time between two writes of the records while things keep changing. */
export const FLUSH_INTERVAL_MS = 50;

/** What the recorder needs from the world (tests pass fakes). */
export interface RecorderDeps {
  readonly store: Pick<StateStore, "putInstance" | "putClass" | "putDaemon">;
  /** Monotonic clock ms (the supervisor's). */
  readonly now: () => number;
  /** Wall-clock ms minus monotonic ms, now. */
  readonly wallOffset: () => number;
  /** A live process's start time (ticks), or null. */
  readonly processStart: (pid: number) => number | null;
  /** The health state of an instance worth keeping, or null. */
  readonly health?: (inst: Instance) => InstanceRecord["health"];
  readonly jobEnv: () => Env;
  readonly daemon: () => { pid: number; start: number | null; bootId: string };
}

export class Recorder {
  readonly #instances = new Set<Instance>();
  readonly #classes = new Map<JobClassEntry, string>();
  /** Start times of the pids we record, read once per pid. */
  readonly #starts = new Map<number, number | null>();
  #scheduled = false;
  #lastFlush = -Infinity;
  #lastEnv = "";

  constructor(private readonly deps: RecorderDeps) {}

  /** An instance changed (or is gone: `inst.destroyed`). */
  instanceChanged(inst: Instance): void {
    this.#instances.add(inst);
    this.#schedule();
  }

  /** A job class's `start on` match, pending retries or failures changed (or it was dropped). */
  classChanged(cls: JobClassEntry, name: string): void {
    this.#classes.set(cls, name);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    const wait = this.#lastFlush + FLUSH_INTERVAL_MS - this.deps.now();
    if (wait <= 0) queueMicrotask(() => this.flush());
    else setTimeout(() => this.flush(), wait);
  }

  /** Write every record that changed now (`sync`: fsync them, before a re-exec). */
  flush(sync = false): void {
    this.#scheduled = false;
    this.#lastFlush = this.deps.now();
    const offset = this.deps.wallOffset();
    const { store } = this.deps;
    for (const inst of this.#instances) {
      if (inst.destroyed) {
        for (const pid of Object.values(inst.st.pids)) this.#starts.delete(pid);
        store.putInstance(inst.job.name, inst.name, null);
      } else {
        store.putInstance(inst.job.name, inst.name, this.#instanceRecord(inst, offset), sync);
      }
    }
    this.#instances.clear();
    for (const [cls, name] of this.#classes) {
      store.putClass(name, this.#classRecord(cls, name, offset), sync);
    }
    this.#classes.clear();
    const env = JSON.stringify(this.deps.jobEnv());
    if (env !== this.#lastEnv || sync) {
      this.#lastEnv = env;
      const d = this.deps.daemon();
      store.putDaemon(
        {
          v: SNAPSHOT_VERSION,
          pid: d.pid,
          start: d.start,
          bootId: d.bootId,
          jobEnv: this.deps.jobEnv(),
          at: Date.now(),
        },
        sync,
      );
    }
  }

  /** Record everything now, the daemon record included (a first start, or before a re-exec). */
  recordAll(instances: Iterable<Instance>, classes: Iterable<[string, JobClassEntry]>): void {
    for (const inst of instances) this.#instances.add(inst);
    for (const [name, cls] of classes) this.#classes.set(cls, name);
    this.#lastEnv = "";
  }

  #start(pid: number): number | null {
    if (!this.#starts.has(pid)) this.#starts.set(pid, this.deps.processStart(pid));
    return this.#starts.get(pid) ?? null;
  }

  #instanceRecord(inst: Instance, offset: number): InstanceRecord {
    const procs: Partial<Record<ProcessKind, ProcessRecord>> = {};
    for (const [kind, pid] of Object.entries(inst.st.pids) as [ProcessKind, number][]) {
      procs[kind] = { pid, start: this.#start(pid) };
    }
    const at = (id: number | undefined, due: number | null) =>
      id === undefined || due === null ? null : due + offset;
    return {
      v: SNAPSHOT_VERSION,
      job: inst.job,
      name: inst.name,
      st: shiftTimes(inst.st, offset),
      procs,
      env: inst.env,
      pendingEnv: inst.pendingEnv,
      stopEnv: inst.stopEnv,
      stopMatch: inst.stopMatch,
      backoff: inst.backoff,
      respawnAt: inst.respawnAt === null ? null : inst.respawnAt + offset,
      killAt: at(inst.timers.kill, inst.timerDue.kill ?? null),
      expectAt: at(inst.timers.expect, inst.timerDue.expect ?? null),
      health: this.deps.health?.(inst) ?? null,
    };
  }

  #classRecord(cls: JobClassEntry, name: string, offset: number): ClassRecord | null {
    const retries = [...cls.retries].map(([n, r]) => ({ name: n, at: r.at + offset, env: r.env }));
    const failures = [...cls.failures].map(([n, f]) => ({
      name: n,
      message: f.message,
      at: f.at + offset,
    }));
    const dropped = !cls.job || (cls.deleted && cls.instances.size === 0);
    if (dropped || (!cls.startMatch && retries.length === 0 && failures.length === 0)) return null;
    return {
      v: SNAPSHOT_VERSION,
      name,
      startOn: JSON.stringify(cls.job.startOn),
      startMatch: cls.startMatch,
      retries,
      failures,
    };
  }
}

export type { HealthView };
