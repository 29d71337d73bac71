/**
 * Keeps the on-disk records (StateStore) in step with the supervisor, so that a daemon started
 * after this one (a re-exec, or after a crash or kill -9) finds every job as it was. The
 * supervisor says what changed; the records of everything that changed are built and written
 * at the end of the turn in which it changed. While changes keep coming back to back (a crash
 * storm), writes are spaced out, up to MAX_FLUSH_INTERVAL_MS apart, so recording stays a small
 * part of the daemon's work; after a quiet moment the next change is written at once again.
 */

import type { Instance, JobClassEntry } from "./ports.ts";
import { instanceKey, type ProcessChange, type StateStore } from "./state_store.ts";
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

/** Longest time a change waits to be written while changes come back to back. */
export const MAX_FLUSH_INTERVAL_MS = 100;
/** Two writes closer than this count as back to back (the spacing then doubles). */
const BUSY_MS = 20;

/** What the recorder needs from the world (tests pass fakes). */
export interface RecorderDeps {
  readonly store: Pick<StateStore, "record">;
  /** Monotonic clock ms (the supervisor's). */
  readonly now: () => number;
  /** Wall-clock ms minus monotonic ms, now. */
  readonly wallOffset: () => number;
  /** A live process's start time (ticks), or null. */
  readonly processStart: (pid: number) => number | null;
  /** The health state of an instance worth keeping, or null. */
  readonly health?: (inst: Instance) => InstanceRecord["health"];
  readonly jobEnv: () => Env;
  readonly daemon: () => {
    pid: number;
    start: number | null;
    bootId: string;
    bootPending?: boolean;
  };
}

export class Recorder {
  readonly #instances = new Set<Instance>();
  readonly #classes = new Map<JobClassEntry, string>();
  /** Start times of the pids we record, read once per pid. */
  readonly #starts = new Map<number, number | null>();
  #scheduled = false;
  #procsScheduled = false;
  #procs: ProcessChange[] = [];
  #lastFlush = -Infinity;
  /** The spacing of writes now: 0 when quiet, growing while changes come back to back. */
  #interval = 0;
  /** The JSON of each job definition recorded (definitions are immutable values). */
  readonly #jobJson = new WeakMap<object, string>();
  #lastEnv = "";

  constructor(private readonly deps: RecorderDeps) {}

  /**
   * An instance changed (or is gone: `inst.destroyed`). `urgent` (its goal changed, or it is
   * gone): written at the end of this turn whatever the spacing, so that a stop that was
   * answered is not undone by a kill -9 a moment later (the next daemon would respawn the job
   * from the record before it).
   */
  instanceChanged(inst: Instance, urgent = false): void {
    this.#instances.add(inst);
    if (urgent) this.#flushAtEndOfTurn();
    else this.#schedule();
  }

  /**
   * A process of an instance started: on disk now, before anything else happens in this turn
   * (a daemon killed later in the turn must find it, or the next one starts the job a second
   * time), after the process ends said before it. An instance never recorded yet is recorded
   * with it (else its process would be a lone one, of which only a main process is taken
   * over); so is one whose main process is now the daemon a followed fork made (`withRecord`:
   * the next daemon must not take it for a fork still being followed).
   */
  processStarted(inst: Instance, kind: ProcessKind, pid: number, withRecord = false): void {
    const key = instanceKey(inst.job.name, inst.name);
    const slot = `${key}\u0000${kind}`;
    if (this.#journalled.get(slot) === pid && !withRecord) return;
    this.#journalled.set(slot, pid);
    this.#procs.push({ key, kind, pid, start: this.#start(pid) });
    const processes = this.#procs;
    this.#procs = [];
    const instances: [string, string][] = [];
    if (withRecord || !this.#written.has(inst)) {
      this.#written.add(inst);
      instances.push([key, this.#instanceJson(inst, this.deps.wallOffset())]);
    }
    this.deps.store.record({ instances, processes });
  }

  /** The process each instance's kind was last journalled with (processStarted). */
  readonly #journalled = new Map<string, number>();
  /** Instances whose record was written at least once. */
  readonly #written = new WeakSet<Instance>();

  /**
   * A process of an instance started (`pid`) or ended (null): journalled at the end of this
   * turn, never held back, so that no process goes unrecorded while full records wait. (Starts
   * go through processStarted first: this repeats none of them.)
   */
  processChanged(inst: Instance, kind: ProcessKind, pid: number | null, old?: number): void {
    if (old !== undefined) this.#starts.delete(old);
    const slot = `${instanceKey(inst.job.name, inst.name)}\u0000${kind}`;
    if (pid !== null && this.#journalled.get(slot) === pid) return;
    if (pid === null) this.#journalled.delete(slot);
    this.#procs.push({
      key: instanceKey(inst.job.name, inst.name),
      kind,
      pid,
      start: pid === null ? null : this.#start(pid),
    });
    if (this.#procsScheduled) return;
    this.#procsScheduled = true;
    queueMicrotask(() => {
      this.#procsScheduled = false;
      if (this.#procs.length === 0) return;
      const processes = this.#procs;
      this.#procs = [];
      this.deps.store.record({ processes });
    });
  }

  /** A job class's `start on` match, pending retries or failures changed (or it was dropped). */
  classChanged(cls: JobClassEntry, name: string, urgent = false): void {
    this.#classes.set(cls, name);
    if (!urgent) return this.#schedule();
    this.#flushAtEndOfTurn();
  }

  /** Written at the end of this turn whatever the spacing (a flush already due finds less to do). */
  #flushAtEndOfTurn(): void {
    if (this.#urgent) return;
    this.#urgent = true;
    queueMicrotask(() => {
      this.#urgent = false;
      this.flush();
    });
  }

  #urgent = false;

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    const since = this.deps.now() - this.#lastFlush;
    if (since >= MAX_FLUSH_INTERVAL_MS * 2) this.#interval = 0;
    else if (since < BUSY_MS) {
      this.#interval = Math.min(MAX_FLUSH_INTERVAL_MS, this.#interval * 2 || 5);
    }
    const wait = this.#interval - since;
    if (wait <= 0) queueMicrotask(() => this.flush());
    else setTimeout(() => this.flush(), wait);
  }

  /** Write every record that changed now (`sync`: a fsynced snapshot, before a re-exec). */
  flush(sync = false): void {
    this.#scheduled = false;
    const processes = this.#procs;
    this.#procs = [];
    this.#lastFlush = this.deps.now();
    const offset = this.deps.wallOffset();
    const instances: [string, string | null][] = [];
    for (const inst of this.#instances) {
      const key = instanceKey(inst.job.name, inst.name);
      if (inst.destroyed) {
        for (const pid of Object.values(inst.st.pids)) this.#starts.delete(pid);
        instances.push([key, null]);
      } else {
        this.#written.add(inst);
        instances.push([key, this.#instanceJson(inst, offset)]);
      }
    }
    this.#instances.clear();
    const classes: [string, string | null][] = [];
    for (const [cls, name] of this.#classes) {
      const rec = this.#classRecord(cls, name, offset);
      classes.push([name, rec === null ? null : JSON.stringify(rec)]);
    }
    this.#classes.clear();
    let daemon: string | undefined;
    const env = JSON.stringify(this.deps.jobEnv());
    if (env !== this.#lastEnv || sync) {
      this.#lastEnv = env;
      const d = this.deps.daemon();
      daemon = JSON.stringify({
        v: SNAPSHOT_VERSION,
        pid: d.pid,
        start: d.start,
        bootId: d.bootId,
        jobEnv: this.deps.jobEnv(),
        at: Date.now(),
        ...(d.bootPending ? { bootPending: true } : {}),
      });
    }
    this.deps.store.record({ instances, classes, daemon, processes }, sync);
  }

  /** Record everything now, the daemon record included (a first start, or before a re-exec). */
  recordAll(instances: Iterable<Instance>, classes: Iterable<[string, JobClassEntry]>): void {
    for (const inst of instances) {
      this.#instances.add(inst);
      this.#written.add(inst);
    }
    for (const [name, cls] of classes) this.#classes.set(cls, name);
    this.#lastEnv = "";
  }

  #start(pid: number): number | null {
    if (!this.#starts.has(pid)) this.#starts.set(pid, this.deps.processStart(pid));
    return this.#starts.get(pid) ?? null;
  }

  /** The record as JSON, the job definition's JSON reused from the last time. */
  #instanceJson(inst: Instance, offset: number): string {
    const { job, ...rest } = this.#instanceRecord(inst, offset);
    let jobJson = this.#jobJson.get(job);
    if (jobJson === undefined) {
      jobJson = JSON.stringify(job);
      this.#jobJson.set(job, jobJson);
    }
    return `{"job":${jobJson},${JSON.stringify(rest).slice(1)}`;
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
    const retries = [...cls.retries ?? []].map(([n, r]) => ({
      name: n,
      at: r.at + offset,
      env: r.env,
    }));
    const failures = [...cls.failures ?? []].map(([n, f]) => ({
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
