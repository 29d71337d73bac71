/**
 * The supervisor: job classes, their instances, the event queue, and the one serial loop that
 * feeds inputs to the pure state machine (instance.ts) and carries out its effects through ports
 * (processes, timers, log). Signal handlers, socket handlers and process watchers only call
 * `enqueue`-style methods; all work happens in `#drain`, one input at a time.
 */

import type { JobClass, ProcessKind } from "../job/model.ts";
import { eventEnvironment, initialMatch, isSatisfied, satisfyingEvents } from "../events/match.ts";
import { ExpandError, expandVars } from "../events/expand.ts";
import {
  awaitedProcess,
  describeExitStatus,
  describeFailure,
  type Effect,
  type ExitStatus,
  type Input,
  instanceLabel,
  type InstanceState,
  newInstance,
  type State,
  step,
  type TimerName,
} from "./instance.ts";
import { PROCESS_NAMES, PROCESS_ORDER as PROCESS_KINDS } from "../job/model.ts";
import type { LoneProcess } from "./state_store.ts";
import {
  type ClassRecord,
  type InstanceRecord,
  type ProcessRecord,
  shiftTimes,
} from "./snapshot.ts";
import { EventQueue, type QueuedEvent, unblock } from "./events.ts";
import { classEnv, DEFAULT_PATH, type Env, logFileName, startEnv } from "./environment.ts";
import type { InstanceView } from "./status.ts";
import { describeExit, respawnDelaySeconds, shouldResetBackoff } from "../health/backoff.ts";
import { eventNames, eventOperands } from "../events/print.ts";
import { SHORTAGE_DELAY, shortageIn } from "./shortage.ts";

export type {
  Blocked,
  Instance,
  JobClassEntry,
  ProcessPort,
  SpawnRequest,
  SupervisorOptions,
  TimerPort,
  Waiter,
} from "./ports.ts";
import type { Instance, JobClassEntry, SupervisorOptions, Waiter } from "./ports.ts";

type QueueItem =
  | { readonly kind: "input"; readonly instance: Instance; readonly input: Input }
  | { readonly kind: "call"; readonly fn: () => void };

/**
 * Milliseconds of spawning per turn of the event loop before further spawns wait a turn: 1 while
 * anything else comes in between turns (exits, requests, timers: a crash storm), doubling up to
 * MAX_SPAWN_TURN_MS while nothing does (a start-up of many jobs, which would otherwise pay a timer
 * hop of ~2 ms per millisecond of spawning). Turns at that full budget follow each other without a
 * timer (TimerPort.soon): see #spawn.
 */
const SPAWN_TURN_MS = 1;
const MAX_SPAWN_TURN_MS = 16;

/** The states an instance is in before its main process is spawned (or just as it is). */
const BEFORE_MAIN: ReadonlySet<State> = new Set<State>(["starting", "pre-start", "spawned"]);

/** Whether the forks of `job`'s main process are followed (ptrace) until it is the daemon. */
function followsForks(job: JobClass): boolean {
  return job.expect === "fork" || job.expect === "daemon";
}

/** The states in the order an instance passes them from start to stop. */
const STATE_ORDER: readonly State[] = [
  "waiting",
  "starting",
  "pre-start",
  "spawned",
  "post-start",
  "running",
  "pre-stop",
  "stopping",
  "killed",
  "post-stop",
];

export class Supervisor {
  readonly classes = new Map<string, JobClassEntry>();
  readonly events = new EventQueue();
  readonly #o: SupervisorOptions;
  #queue: QueueItem[] = [];
  /** Called after every step of an instance (health supervision watches `running`). */
  onInstanceChange: ((inst: Instance) => void) | null = null;
  #draining = false;

  constructor(options: SupervisorOptions) {
    this.#o = options;
  }

  get jobEnv(): Env {
    return this.#o.jobEnv;
  }

  /** Replace the set of job classes (load or reload). Running instances keep their definition. */
  setJobs(jobs: ReadonlyMap<string, JobClass>): void {
    this.#run(() => {
      for (const [name, job] of jobs) {
        const cls = this.classes.get(name);
        if (!cls) {
          const entry: JobClassEntry = {
            job,
            instances: new Map(),
            startMatch: job.startOn && !job.manual ? initialMatch(job.startOn) : null,
            deleted: false,
          };
          this.classes.set(name, entry);
          this.#index(entry, job);
        } else if (cls.deleted || !sameJob(cls.pending ?? cls.job, job)) {
          if (cls.instances.size === 0) {
            this.#define(cls, job);
          } else {
            // As Upstart: while instances run, the class keeps its definition (show-config,
            // start on, new instances); the new one takes over when the last instance stops.
            if (cls.deleted) {
              cls.deleted = false;
              cls.startMatch ??= cls.job.startOn && !cls.job.manual
                ? initialMatch(cls.job.startOn)
                : null;
            }
            cls.pending = sameJob(cls.job, job) ? null : job;
          }
        }
      }
      for (const [name, cls] of this.classes) {
        if (jobs.has(name)) continue;
        cls.deleted = true;
        cls.pending = null;
        this.events.release(cls.startMatch);
        cls.startMatch = null;
        if (cls.instances.size === 0) this.#dropClass(name, cls);
      }
    });
  }

  /** Give a class a (new) definition now. */
  #define(cls: JobClassEntry, job: JobClass): void {
    this.#classChanged(cls);
    this.events.release(cls.startMatch);
    this.#index(cls, job);
    cls.job = job;
    cls.deleted = false;
    cls.pending = null;
    cls.startMatch = job.startOn && !job.manual ? initialMatch(job.startOn) : null;
  }

  /** Queue an event. `onFinished` hears when every job it started or stopped has settled. */
  emit(
    name: string,
    env: readonly (readonly [string, string])[],
    onFinished: ((failed: boolean) => void) | null = null,
  ): void {
    this.#run(() => {
      this.events.push(name, env, onFinished);
    });
  }

  /** Run `fn` inside the loop (for control commands that touch instances). */
  call(fn: () => void): void {
    this.#run(fn);
  }

  /** The instance a command names: expand the class's `instance` stanza against `env`. */
  instanceName(cls: JobClassEntry, env: Env): string {
    if (!cls.job.instance) return "";
    return expandVars(cls.job.instance, env);
  }

  /** Start an instance (creating it), as `initctl start` does. Returns false if already started. */
  startInstance(cls: JobClassEntry, name: string, env: Env, waiter: Waiter | null): boolean {
    let inst = cls.instances.get(name);
    if (inst && inst.st.goal !== "stop") return false;
    this.cancelRetry(cls, name);
    if (!inst) inst = this.#newInstance(cls, name);
    inst.pendingEnv = env;
    this.#finished(inst, false);
    if (waiter) inst.blocking.push({ waiter });
    this.#input(inst, { type: "goal", goal: "start" });
    return true;
  }

  /** Stop an instance, as `initctl stop` does. Returns false if its goal is already stop. */
  stopInstance(inst: Instance, stopEnv: Env | null, waiter: Waiter | null): boolean {
    if (inst.st.goal === "stop") return false;
    inst.stopEnv = stopEnv;
    this.#finished(inst, false);
    if (waiter) inst.blocking.push({ waiter });
    this.#input(inst, { type: "goal", goal: "stop" });
    return true;
  }

  /** Restart an instance (`initctl restart`): stop then start again with `env`. */
  restartInstance(inst: Instance, env: Env | null, waiter: Waiter | null): boolean {
    if (inst.st.goal === "stop") return false;
    if (env) inst.pendingEnv = env;
    this.#finished(inst, false);
    if (waiter) inst.blocking.push({ waiter });
    this.#input(inst, { type: "restart" });
    return true;
  }

  /** Deliver an input to an instance through the loop. */
  input(inst: Instance, input: Input): void {
    this.#run(() => this.#input(inst, input));
  }

  /** Status of every instance (classes without instances are not listed). */
  view(inst: Instance): InstanceView {
    return {
      job: inst.cls.job.name,
      instance: inst.name,
      goal: inst.st.goal,
      state: inst.st.state,
      pids: inst.st.pids,
      since: inst.st.since,
      respawns: inst.st.respawns,
      lastExit: inst.st.lastExit,
      logFile: inst.job.console === "log"
        ? `${this.#o.logDir}/${logFileName(inst.job.name, inst.name)}`
        : null,
      health: null,
      failure: this.failureOf(inst.cls, inst.name),
      log: inst.job.console === "log" ? this.#o.logs?.view(inst.job, inst.name) ?? null : null,
      adopted: inst.st.pids.main !== undefined &&
        (this.#o.processes.isAdopted?.(inst.st.pids.main) ?? false),
    };
  }

  /** Why the state cannot be handed to a new program right now (spawns held back), or null. */
  get busy(): string | null {
    return this.#heldSpawns.length > 0
      ? `busy: ${this.#heldSpawns.length} processes waiting to be spawned: try again in a moment`
      : null;
  }

  /** True when no instance is left (used when the daemon shuts down). */
  get idle(): boolean {
    for (const cls of this.classes.values()) if (cls.instances.size) return false;
    return true;
  }

  /**
   * Stop every instance (daemon shutdown), in Upstart's order: a job whose `stop on` waits for
   * another job's `stopping`/`stopped` is left to that event (so `stop on stopping db` stops before
   * db finishes stopping, holding db's stopping event); it is stopped directly only once none of
   * the jobs it waits for is still about to stop. `onIdle` hears when no instance is left.
   */
  shutdown(onIdle: () => void): void {
    this.#run(() => {
      this.#shutdown = { onIdle };
      for (const cls of this.classes.values()) {
        this.#cancelRetries(cls);
        this.events.release(cls.startMatch);
        cls.startMatch = null;
      }
      this.#shutdownStep();
    });
  }

  #shutdown: { onIdle: () => void } | null = null;

  /** The classes to offer each event name to (start on of the class, stop on of its instances). */
  readonly #byEvent = new Map<string, Set<JobClassEntry>>();
  /** The order classes were made in (events are offered in that order). */
  readonly #order = new WeakMap<JobClassEntry, number>();
  #nextOrder = 0;

  /** Note the event names of `job`'s start on and stop on as relevant to `cls`. */
  #index(cls: JobClassEntry, job: JobClass): void {
    if (!this.#order.has(cls)) this.#order.set(cls, this.#nextOrder++);
    for (const expr of [job.startOn, job.stopOn]) {
      if (!expr) continue;
      for (const name of eventNames(expr)) {
        let set = this.#byEvent.get(name);
        if (!set) this.#byEvent.set(name, set = new Set());
        set.add(cls);
      }
    }
  }

  #unindex(cls: JobClassEntry): void {
    for (const [name, set] of this.#byEvent) {
      if (set.delete(cls) && set.size === 0) this.#byEvent.delete(name);
    }
  }

  /** Last resort of a shutdown that ran out of time: SIGKILL every process of every instance. */
  killEverything(): void {
    for (const cls of this.classes.values()) {
      for (const inst of cls.instances.values()) {
        for (const pid of Object.values(inst.st.pids)) {
          try {
            this.#o.processes.kill(pid, "KILL", 0);
          } catch { /* gone */ }
        }
        if (inst.st.strays !== null) {
          try {
            this.#o.processes.killGroup(inst.st.strays, "KILL", () => {});
          } catch { /* gone */ }
        }
      }
    }
  }

  /** Stop what is no longer held back by a job it waits for; tell when nothing is left. */
  #shutdownStep(): void {
    const sd = this.#shutdown;
    if (!sd) return;
    if (this.idle) {
      this.#shutdown = null;
      sd.onIdle();
      return;
    }
    for (const cls of this.classes.values()) {
      for (const inst of cls.instances.values()) {
        if (inst.st.goal === "stop" || inst.destroyed) continue;
        if (this.#waitsForAStop(inst)) continue;
        inst.stopEnv = null;
        this.#input(inst, { type: "shutdown" });
      }
    }
  }

  /** Does `inst`'s `stop on` name a job that has yet to emit its `stopping`/`stopped`? */
  #waitsForAStop(inst: Instance): boolean {
    const stopOn = inst.job.stopOn;
    if (!stopOn) return false;
    for (const op of eventOperands(stopOn)) {
      if (op.name !== "stopping" && op.name !== "stopped") continue;
      const arg = op.args[0];
      const target = arg?.kind === "positional"
        ? arg.value
        : op.args.find((a) => a.kind === "named" && a.key === "JOB" && !a.negated)?.value;
      const cls = target === undefined ? undefined : this.classes.get(target);
      if (!cls || cls.job === inst.job) continue;
      // X's `stopping` is handled (and holds X) while X is in stopping; `stopped X` comes with
      // the end of X.
      const last = STATE_ORDER.indexOf(op.name === "stopping" ? "stopping" : "post-stop");
      for (const other of cls.instances.values()) {
        if (!other.destroyed && STATE_ORDER.indexOf(other.st.state) <= last) return true;
      }
    }
    return false;
  }

  // ---------------------------------------------------------------- restart

  /**
   * Bring back what an earlier daemon recorded (after `setJobs` with today's files): every
   * instance with its definition, state and timers, each recorded process that is still the same
   * process adopted through the process port, and each class's half-matched `start on`, pending
   * retries and failures. A process that ended while no daemon watched is an exit with unknown
   * status (a job with `respawn` respawns). Returns what was adopted and what had ended.
   */
  restore(
    records: {
      instances: readonly InstanceRecord[];
      classes: readonly ClassRecord[];
      lone?: readonly LoneProcess[];
      /** The earlier daemon's start (ticks since boot), when known: see #withUnrecorded. */
      daemonStart?: number | null;
    },
    wallOffset: number,
    onRestored: (inst: Instance, record: InstanceRecord) => void = () => {},
  ): { adopted: number; ended: number } {
    let adopted = 0, ended = 0;
    this.#run(() => {
      const now = this.#o.timers.now();
      const inMs = (wall: number | null) =>
        wall === null ? null : Math.max(0, wall - wallOffset - now);
      for (const rec of records.classes) {
        const cls = this.classes.get(rec.name);
        if (!cls) continue;
        if (rec.startMatch && JSON.stringify(cls.job.startOn) === rec.startOn && !cls.job.manual) {
          cls.startMatch = rec.startMatch;
        }
        for (const f of rec.failures) {
          (cls.failures ??= new Map()).set(f.name, { message: f.message, at: f.at - wallOffset });
        }
        for (const r of rec.retries) this.#armRetry(cls, r.name, r.env, inMs(r.at) ?? 0);
      }
      const instances = this.#withUnrecorded(
        records.instances,
        records.lone ?? [],
        records.daemonStart ?? null,
      );
      for (const rec of instances) {
        // One record that breaks the restore (a garbled one the checks let through) is left
        // out and named; the others are restored all the same.
        let made: Instance | null = null;
        const queued = this.#queue.length;
        try {
          const name = rec.job.name;
          let cls = this.classes.get(name);
          if (!cls) {
            // Its file is gone: the instance runs on with its definition until it stops.
            cls = {
              job: rec.job,
              instances: new Map(),
              startMatch: null,
              deleted: true,
            };
            this.classes.set(name, cls);
          }
          const inst = this.#newInstance(cls, rec.name);
          made = inst;
          inst.job = rec.job;
          this.#index(cls, rec.job);
          // Its processes still write to their log pipe: read it again before anything else.
          if (inst.job.console === "log") this.#o.logs?.attach(inst.job, inst.name);
          inst.st = shiftTimes(rec.st, -wallOffset);
          inst.env = rec.env;
          inst.pendingEnv = rec.pendingEnv;
          inst.stopEnv = rec.stopEnv;
          inst.stopMatch = rec.stopMatch;
          inst.backoff = rec.backoff;
          const lost: ProcessKind[] = [];
          for (const [kind, p] of Object.entries(rec.procs) as [ProcessKind, ProcessRecord][]) {
            const ok = this.#o.processes.adopt(
              p.pid,
              p.start,
              kind === "main",
              (pid, status, strays) => this.#exited(inst, kind, pid, status, strays),
            );
            if (ok) adopted++;
            else lost.push(kind);
          }
          if (this.#followLost(inst, rec, lost)) lost.push("main");
          this.#reconcile(inst, rec, lost);
          const arm = (timer: TimerName, ms: number | null) => {
            if (ms !== null) this.#effect(inst, { type: "armTimer", timer, seconds: ms / 1000 });
          };
          arm("kill", inMs(rec.killAt));
          arm("expect", inMs(rec.expectAt));
          arm("respawn", inMs(rec.respawnAt));
          this.#o.recorder?.instanceChanged(inst);
          // What the earlier daemon was waiting for is gone with it: its blocking event, the
          // processes that ended meanwhile.
          if (inst.st.blocked) {
            this.#queue.push({ kind: "input", instance: inst, input: { type: "eventFinished" } });
          }
          for (const kind of lost) {
            ended++;
            // What it left in its group (a daemon's workers holding its port) goes as strays do.
            // A process whose end is journalled has no record left, but the instance's state (a
            // record written less often) still names it: its group is looked for all the same
            // (restart_chaos: the strays of a main killed just before the daemon were orphaned).
            const proc = rec.procs[kind];
            const pid = proc?.pid ?? rec.st.pids[kind];
            const strays = kind === "main" && pid !== undefined
              ? this.#o.processes.lostGroup?.(pid, proc?.start ?? null) ?? null
              : null;
            this.#queue.push({
              kind: "input",
              instance: inst,
              input: { type: "exited", kind, status: { code: null, signal: null }, strays },
            });
          }
          // Nothing ended: a process its state waits for and the record lacks was never spawned.
          if (
            lost.length === 0 &&
            (inst.st.state === "killed" || awaitedProcess(inst.st, rec.respawnAt !== null))
          ) {
            this.#queue.push({
              kind: "input",
              instance: inst,
              input: { type: "resume", respawnTimer: rec.respawnAt !== null },
            });
          }
          this.onInstanceChange?.(inst);
          onRestored(inst, rec);
        } catch (e) {
          this.#o.log(
            `state record of ${instanceLabel(rec.job?.name ?? "?", rec.name)} cannot be ` +
              `restored: ${e instanceof Error ? e.message : e}: ignored`,
          );
          this.#queue.length = queued;
          if (made) this.#dropRestored(made);
        }
      }
      // Main processes journalled for instances whose record was not written yet (a daemon
      // killed just after a spawn): running instances of today's definition.
      for (const p of records.lone ?? []) {
        const cls = this.classes.get(p.job);
        if (p.kind !== "main" || !cls || cls.instances.has(p.instance)) continue;
        const inst = this.#newInstance(cls, p.instance);
        inst.st = { ...inst.st, goal: "start", state: "running", pids: { main: p.pid } };
        // What it was started with, when a garbled record still says: a respawn runs with it.
        if (p.env) inst.env = p.env;
        const ok = this.#o.processes.adopt(
          p.pid,
          p.start,
          true,
          (pid, status, strays) => this.#exited(inst, "main", pid, status, strays),
        );
        if (ok) {
          adopted++;
          this.#o.log(
            `${instanceLabel(p.job, p.instance)} main process (${p.pid}) taken over from the ` +
              `records without its instance's: running`,
          );
        } else {
          ended++;
          const strays = this.#o.processes.lostGroup?.(p.pid, p.start) ?? null;
          this.#queue.push({
            kind: "input",
            instance: inst,
            input: { type: "exited", kind: "main", status: { code: null, signal: null }, strays },
          });
        }
        this.#o.recorder?.instanceChanged(inst);
        this.onInstanceChange?.(inst);
      }
    });
    return { adopted, ended };
  }

  /** Undo the restore of an instance that failed half way (its processes are left alone). */
  #dropRestored(inst: Instance): void {
    inst.destroyed = true;
    for (const id of Object.values(inst.timers)) this.#o.timers.clear(id);
    if (inst.job?.console === "log") this.#o.logs?.detach(inst.job, inst.name);
    const cls = inst.cls;
    if (cls.instances.get(inst.name) === inst) cls.instances.delete(inst.name);
    if (cls.deleted && cls.instances.size === 0) {
      for (const [name, c] of this.classes) if (c === cls) this.#dropClass(name, c);
    }
    this.#o.recorder?.instanceChanged(inst);
  }

  /**
   * The forks of an `expect fork`/`expect daemon` main process were being followed when the
   * earlier daemon ended (its record says it had forks to go, or had yet to be spawned): ptrace
   * ended with that daemon, so the recorded process may be stopped for good (its own stop before
   * exec, a fork's first stop) or half way to a daemon nobody will know. It is killed with what
   * it forked so far (its group) and handed on as ended: a job with respawn spawns it again, its
   * forks followed from the start. True when it was.
   */
  #followLost(inst: Instance, rec: InstanceRecord, lost: readonly ProcessKind[]): boolean {
    const main = rec.procs.main;
    const expect = rec.job.expect;
    if (!main || lost.includes("main") || !followsForks(rec.job)) return false;
    if (rec.st.forksLeft === 0 && !BEFORE_MAIN.has(rec.st.state)) return false;
    this.#o.log(
      `${instanceLabel(inst.job.name, inst.name)} main process (${main.pid}) was forking ` +
        `(expect ${expect}) when the earlier upkeep ended: killed, its forks cannot be followed`,
    );
    try {
      this.#o.processes.kill(main.pid, "KILL", 0);
    } catch { /* gone */ }
    return true;
  }

  /**
   * The records with the process its state waits for and lacks, where the earlier daemon spawned
   * it but was killed before recording it (it is then in no record, but runs: found by
   * ProcessPort.findUnrecorded, one look at the process table for all). Without it, the restore
   * would spawn it a second time.
   */
  #withUnrecorded(
    records: readonly InstanceRecord[],
    lone: readonly LoneProcess[],
    since: number | null,
  ): InstanceRecord[] {
    const socket = this.#o.processEnv.UPKEEP_SOCKET;
    const find = this.#o.processes.findUnrecorded?.bind(this.#o.processes);
    const wanted = records.map((rec) => {
      try {
        const kind = awaitedProcess(rec.st, rec.respawnAt !== null);
        return kind !== null && !rec.procs[kind] ? kind : null;
      } catch {
        return null; // a garbled record: the restore names it
      }
    });
    if (!find || !socket || since === null || wanted.every((k) => k === null)) return [...records];
    const known = new Set<number>(lone.map((p) => p.pid));
    for (const r of records) {
      try {
        for (const p of Object.values(r.procs)) known.add(p.pid);
      } catch { /* a garbled record */ }
    }
    const queries = records.map((rec, i) =>
      wanted[i] === null ? null : {
        job: rec.job.name,
        instance: rec.name,
        socket,
        since,
        anyUser: rec.job.setuid !== null || rec.job.setgid !== null,
      }
    );
    let found: ({ pid: number; start: number } | null)[];
    try {
      found = find(queries, known);
    } catch (e) {
      // Not a reason to restore nothing: what it would have found is spawned again instead.
      this.#o.log(`cannot look for processes spawned but not recorded: ${errorText(e)}`);
      return [...records];
    }
    return records.map((rec, i) => {
      const kind = wanted[i], proc = found[i];
      if (!kind || !proc) return rec;
      this.#o.log(
        `${instanceLabel(rec.job.name, rec.name)} ${PROCESS_NAMES[kind]} process (${proc.pid}) ` +
          "was started but not recorded before the restart: taken over",
      );
      return { ...rec, procs: { ...rec.procs, [kind]: proc } };
    });
  }

  /**
   * A daemon killed within the record's write spacing leaves a record older than the journal of
   * process starts and ends (written every turn): the journal wins. A process it says started is
   * the instance's; one the record lists but the journal says ended is handed on as ended (in
   * `lost`); and a main process journalled while the record still says the instance was on its
   * way to spawn it means the instance got that far: running (post-start, when that runs too).
   */
  #reconcile(inst: Instance, rec: InstanceRecord, lost: ProcessKind[]): void {
    const pids: Partial<Record<ProcessKind, number>> = { ...inst.st.pids };
    for (const [kind, p] of Object.entries(rec.procs) as [ProcessKind, ProcessRecord][]) {
      pids[kind] = p.pid;
    }
    for (const kind of Object.keys(inst.st.pids) as ProcessKind[]) {
      if (!rec.procs[kind] && !lost.includes(kind)) lost.push(kind);
    }
    let state = inst.st.state;
    let blocked = inst.st.blocked;
    const main = rec.procs.main;
    if (
      main && main.pid !== inst.st.pids.main && !lost.includes("main") &&
      inst.st.goal === "start" && BEFORE_MAIN.has(state)
    ) {
      state = rec.procs.postStart && !lost.includes("postStart") ? "post-start" : "running";
      blocked = false; // past its `starting` event, which no longer waits for anything
    }
    inst.st = { ...inst.st, pids, state, blocked };
  }

  // ---------------------------------------------------------------- the loop

  #run(fn: () => void): void {
    this.#inputs++;
    this.#queue.push({ kind: "call", fn });
    this.#drain();
  }

  #input(inst: Instance, input: Input): void {
    this.#inputs++;
    this.#queue.push({ kind: "input", instance: inst, input });
    this.#drain();
  }

  /** Inputs taken so far (to see whether anything came in between two spawn turns). */
  #inputs = 0;

  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (;;) {
        const item = this.#queue.shift();
        if (item) {
          // The error boundary: a bug in one step is logged and the loop goes on.
          try {
            if (item.kind === "call") item.fn();
            else this.#step(item.instance, item.input);
          } catch (e) {
            const what = item.kind === "call"
              ? "a request"
              : `${item.input.type} of ${
                instanceLabel(item.instance.job.name, item.instance.name)
              }`;
            this.#o.log(`internal error while handling ${what}: ${errorText(e)}`);
          }
          continue;
        }
        const event = this.events.shift();
        if (!event) break;
        try {
          this.#handleEvent(event);
        } catch (e) {
          this.#o.log(`internal error while handling event ${event.name}: ${errorText(e)}`);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  #step(inst: Instance, input: Input): void {
    if (inst.destroyed) return;
    const before = inst.st;
    const { instance, effects } = step(inst.job, inst.name, inst.st, input, this.#o.timers.now());
    inst.st = instance;
    this.#noteFailure(inst, before, input);
    const rec = this.#o.recorder;
    if (rec) {
      // A goal changed (a stop, a give-up, a start by an event): at the end of the turn.
      rec.instanceChanged(inst, instance.goal !== before.goal);
      if (before.pids !== instance.pids) {
        for (const kind of PROCESS_KINDS) {
          const pid = instance.pids[kind];
          if (before.pids[kind] === pid) continue;
          if (pid !== undefined && rec.processStarted) {
            // The daemon a followed fork made: with the record that says it is no fork now.
            rec.processStarted(inst, kind, pid, input.type === "forked");
          }
          rec.processChanged(inst, kind, pid ?? null, before.pids[kind]);
        }
      }
    }
    if (input.type === "spawned" && input.kind === "main") inst.spawnFailures = 0;
    if (input.type === "spawnFailed" && input.kind === "main") inst.spawnFailures++;
    // A respawn was decided in this step (the goal passes through `respawn` within one step).
    if (instance.respawns > before.respawns) {
      this.#planRespawnDelay(inst, input.type === "spawnFailed" ? shortageIn(input.error) : null);
    }
    for (const effect of effects) {
      try {
        this.#effect(inst, effect);
      } catch (e) {
        // A failing system call (a signal that cannot be sent, ...): said once, with the job's name
        // and the system's words; the instance goes on from where the state machine put it.
        this.#o.log(
          `${instanceLabel(inst.job.name, inst.name)}: cannot ${describeEffect(effect)}: ` +
            (e instanceof Error ? e.message : String(e)),
        );
      }
    }
    if (before.state !== instance.state || inst.destroyed) {
      this.onInstanceChange?.(inst);
      if (this.#shutdown) this.#queue.push({ kind: "call", fn: () => this.#shutdownStep() });
    }
  }

  /** Keep the last failure of an instance for status and doctor; forget it once it runs. */
  #noteFailure(inst: Instance, before: InstanceState, input: Input): void {
    const after = inst.st;
    const cls = inst.cls;
    let message: string | null = null;
    if (input.type === "spawnFailed") {
      message = `cannot spawn ${PROCESS_NAMES[input.kind]} process: ${input.error}`;
    } else if (after.failure && after.failure !== before.failure) {
      message = describeFailure(after.failure, after.lastExit);
    }
    if (message !== null) {
      (cls.failures ??= new Map()).set(inst.name, { message, at: this.#o.timers.now() });
      this.#classChanged(cls);
    } else if (after.state === "running" && before.state !== "running") {
      if (cls.failures?.delete(inst.name)) this.#classChanged(cls);
    }
  }

  /** The last failure of instance `name` of `cls` and when it will be tried again, if known. */
  failureOf(
    cls: JobClassEntry,
    name: string,
  ): { message: string; at: number; nextTry: number | null } | null {
    const f = cls.failures?.get(name);
    if (!f) return null;
    const inst = cls.instances.get(name);
    const nextTry = inst ? inst.respawnAt : cls.retries?.get(name)?.at ?? null;
    return { message: f.message, at: f.at, nextTry };
  }

  #effect(inst: Instance, effect: Effect): void {
    const o = this.#o;
    switch (effect.type) {
      case "log":
        o.log(effect.message, effect.level, inst.job.name);
        return;
      case "spawn":
        return this.#spawn(inst, effect.kind);
      case "kill":
        o.processes.kill(effect.pid, effect.signal, inst.job.killTimeout * 1000);
        return;
      case "armTimer": {
        const old = inst.timers[effect.timer];
        if (old !== undefined) o.timers.clear(old);
        const input: Input = effect.timer === "kill"
          ? { type: "killTimeout" }
          : effect.timer === "expect"
          ? { type: "expectTimeout" }
          : { type: "respawnDelayOver" };
        inst.timerDue[effect.timer] = o.timers.now() + effect.seconds * 1000;
        inst.timers[effect.timer] = o.timers.set(effect.seconds * 1000, () => {
          delete inst.timers[effect.timer];
          delete inst.timerDue[effect.timer];
          if (effect.timer === "respawn") inst.respawnAt = null;
          this.#input(inst, input);
        });
        if (effect.timer === "respawn") inst.respawnAt = o.timers.now() + effect.seconds * 1000;
        return;
      }
      case "cancelTimer": {
        const id = inst.timers[effect.timer];
        if (id !== undefined) o.timers.clear(id);
        delete inst.timers[effect.timer];
        delete inst.timerDue[effect.timer];
        if (effect.timer === "respawn") inst.respawnAt = null;
        return;
      }
      case "emit": {
        if (inst.st.state === "starting") this.#beginStart(inst);
        const env = [...effect.env, ...this.#exported(inst)];
        if (effect.blocking) {
          inst.blocker = this.events.push(effect.event, env, () => {
            inst.blocker = null;
            this.#input(inst, { type: "eventFinished" });
          });
        } else {
          this.events.push(effect.event, env);
        }
        return;
      }
      case "signal":
        o.processes.signal(effect.pid, effect.signal);
        return;
      case "killGroup":
        o.processes.killGroup(
          effect.pgid,
          effect.signal,
          () => this.input(inst, { type: "groupGone" }),
        );
        return;
      case "finished":
        return this.#finished(inst, effect.failed);
      case "respawnLimit":
        return this.#respawnLimit(inst);
      case "destroy":
        return this.#destroy(inst);
    }
  }

  /** Entering starting: swap in the pending start env, build the stop-on matcher. */
  #beginStart(inst: Instance): void {
    if (inst.pendingEnv) {
      inst.env = inst.pendingEnv;
      inst.pendingEnv = null;
    }
    inst.stopEnv = null;
    this.events.release(inst.stopMatch);
    inst.stopMatch = inst.job.stopOn ? initialMatch(inst.job.stopOn) : null;
  }

  #exported(inst: Instance): [string, string][] {
    const out: [string, string][] = [];
    for (const key of inst.job.export) {
      const v = inst.env[key];
      if (v !== undefined) out.push([key, v]);
    }
    return out;
  }

  // ---------------------------------------------------------------- spawning, paced

  /** When the current turn's spawning began (ms), or null when no turn is under way. */
  #turnStart: number | null = null;
  /** This turn's spawning budget (ms): see SPAWN_TURN_MS. */
  #turnBudget = SPAWN_TURN_MS;
  /** #inputs when the last turn's spawns were done. */
  #inputsAfterTurn = -1;
  /** Spawns held over to the next turn, in order. */
  #heldSpawns: { inst: Instance; kind: ProcessKind }[] = [];

  /**
   * Spawn, unless this turn already spent its budget (SPAWN_TURN_MS) spawning: then the spawn waits for the
   * next turn (a task of its own, after the event loop has served the control socket and the
   * timers). A crash loop faster than the machine can spawn is slowed this way, first come first
   * served, and never starves control.
   */
  #spawn(inst: Instance, kind: ProcessKind): void {
    const now = this.#o.timers.now();
    if (this.#turnStart === null) {
      this.#turnStart = now;
      // Once turns have run at the full budget with nothing else coming in (a start-up of many
      // jobs), the next turn follows at once (lib/next_task.ts); otherwise (a crash storm) after
      // a timer hop, whose pause keeps the storm from taking the loop from control requests
      // (scripts/crash_storm.ts, 50 jobs: status p50 146 ms with every hop at once, 3.7 ms so).
      const next = () => this.#nextTurn();
      if (this.#turnBudget >= MAX_SPAWN_TURN_MS && this.#o.timers.soon) this.#o.timers.soon(next);
      else this.#o.timers.set(0, next);
    } else if (now - this.#turnStart >= this.#turnBudget || this.#heldSpawns.length > 0) {
      this.#heldSpawns.push({ inst, kind });
      return;
    }
    this.#spawnNow(inst, kind);
  }

  #nextTurn(): void {
    this.#turnStart = null;
    const held = this.#heldSpawns;
    if (held.length === 0) {
      this.#turnBudget = SPAWN_TURN_MS;
      return;
    }
    // Collect what ended meanwhile first: exits are cheap to take, zombies are not kept waiting.
    this.#o.processes.reap?.();
    const quiet = this.#inputs === this.#inputsAfterTurn;
    this.#turnBudget = quiet ? Math.min(this.#turnBudget * 2, MAX_SPAWN_TURN_MS) : SPAWN_TURN_MS;
    this.#heldSpawns = [];
    this.#run(() => {
      for (const { inst, kind } of held) {
        if (!inst.destroyed) this.#spawn(inst, kind);
      }
    });
    this.#inputsAfterTurn = this.#inputs;
  }

  #spawnNow(inst: Instance, kind: ProcessKind): void {
    const env: Env = { ...inst.env, ...this.#o.processEnv };
    if (this.#o.shimDir) env.PATH = `${this.#o.shimDir}:${env.PATH ?? DEFAULT_PATH}`;
    env.UPSTART_JOB = inst.job.name;
    env.UPSTART_INSTANCE = inst.name;
    if ((kind === "preStop" || kind === "postStop") && inst.stopEnv) {
      Object.assign(env, inst.stopEnv);
    }
    const logFile = inst.job.console === "log"
      ? `${this.#o.logDir}/${logFileName(inst.job.name, inst.name)}`
      : null;
    const logPipe = logFile !== null ? this.#o.logs?.attach(inst.job, inst.name) ?? null : null;
    // Into the pipe before the process exists, so before anything it writes.
    if (logPipe !== null) {
      this.#o.logs?.started(inst.job, inst.name, `${PROCESS_NAMES[kind]} process starting`);
    }
    let pid: number;
    try {
      pid = this.#o.processes.spawn({
        job: inst.job,
        instance: inst.name,
        kind,
        env,
        logFile,
        logPipe,
        onExit: (p, status, strays) => this.#exited(inst, kind, p, status, strays),
        onForked: (p, final) => this.input(inst, { type: "forked", pid: p, final }),
        onStopped: () => this.input(inst, { type: "stopped" }),
        onExec: (p) => this.input(inst, { type: "execed", pid: p }),
        onSetupFailed: (p, message) =>
          this.#run(() => {
            if (inst.destroyed || inst.st.pids[kind] !== p) return;
            this.#step(inst, { type: "spawnFailed", kind, error: message });
          }),
      });
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      if (logPipe !== null) {
        this.#o.logs?.ended(
          inst.job,
          inst.name,
          `${PROCESS_NAMES[kind]} process not started: ${error}`,
        );
      }
      this.#queue.push({
        kind: "input",
        instance: inst,
        input: { type: "spawnFailed", kind, error },
      });
      return;
    }
    // On disk before anything else (see Recorder.processStarted). A main whose forks are followed
    // goes with its instance's record (in `spawned`, its forks to come): else the record of its
    // run before (running, no forks left) would make the next daemon take this process, still
    // forking, for the daemon it forks (restart_chaos, kill-mid-respawn).
    this.#o.recorder?.processStarted?.(inst, kind, pid, kind === "main" && followsForks(inst.job));
    this.#o.log(
      `${instanceLabel(inst.job.name, inst.name)} ${kindName(kind)} process (${pid})`,
      "debug",
      inst.job.name,
    );
    const execPending = kind === "main" && (this.#o.processes.awaitingExec?.(pid) ?? false);
    this.#queue.push({
      kind: "input",
      instance: inst,
      input: { type: "spawned", kind, pid, execPending },
    });
  }

  #exited(
    inst: Instance,
    kind: ProcessKind,
    pid: number,
    status: ExitStatus,
    strays: number | null,
  ): void {
    if (inst.job.console === "log") {
      const text = `${PROCESS_NAMES[kind]} process (${pid}) ${describeExitStatus(status)}`;
      this.#o.logs?.ended(inst.job, inst.name, text);
    }
    this.#run(() => {
      if (inst.destroyed || inst.st.pids[kind] !== pid) return;
      this.#step(inst, { type: "exited", kind, status, strays });
    });
  }

  /** Upstart's job_finished: release blocked events and callers. */
  #finished(inst: Instance, failed: boolean): void {
    const blocking = inst.blocking;
    inst.blocking = [];
    for (const b of blocking) {
      if ("event" in b) {
        if (failed) b.event.failed = true;
        if (unblock(b.event)) this.events.finish(b.event);
      } else {
        b.waiter(failed);
      }
    }
  }

  /**
   * The pause before a respawn: the job's `respawn delay`, or after a spawn that failed for a
   * shortage (shortage.ts), SHORTAGE_DELAY for a job without one.
   */
  #planRespawnDelay(inst: Instance, shortage: string | null): void {
    const delay = inst.job.respawnDelay ?? (shortage !== null ? SHORTAGE_DELAY : null);
    if (!delay) return;
    // A spawn that failed after another one that failed ran for no time at all.
    const started = inst.spawnFailures > 1 ? null : inst.st.mainStartedAt;
    const uptime = started === null ? 0 : (this.#o.timers.now() - started) / 1000;
    inst.backoff = shouldResetBackoff(delay.min, delay.max, uptime) ? 1 : inst.backoff + 1;
    const seconds = respawnDelaySeconds(delay.min, delay.max, inst.backoff);
    inst.st = { ...inst.st, respawnDelay: seconds };
    this.#o.log(
      `${
        instanceLabel(inst.job.name, inst.name)
      } respawning in ${seconds}s (back-off ${inst.backoff})` +
        (shortage !== null ? `: the system is short of resources (${shortage})` : ""),
      shortage !== null ? "notice" : "info",
      inst.job.name,
    );
  }

  #respawnLimit(inst: Instance): void {
    const job = inst.job;
    const exit = inst.st.lastExit;
    const env: [string, string][] = [["JOB", job.name], ["INSTANCE", inst.name]];
    if (exit?.signal) env.push(["EXIT_SIGNAL", exit.signal]);
    else if (exit) env.push(["EXIT_STATUS", String(exit.code ?? 0)]);
    const log = job.console === "log"
      ? `${this.#o.logDir}/${logFileName(job.name, inst.name)}`
      : null;
    if (log) env.push(["LOG", log]);
    this.#o.log(
      `${instanceLabel(job.name, inst.name)} gave up respawning: last ${
        exit ? describeExit(exit.code, exit.signal) : "exit unknown"
      }${log ? `, log ${log}` : ""}`,
    );
    this.events.push("respawn-failed", env);
    const retry = job.respawnRetry;
    if (retry === null) return;
    const cls = inst.cls;
    const name = inst.name;
    const envForRetry = inst.env;
    this.#o.log(
      `${instanceLabel(job.name, name)} will be started again in ${retry}s (respawn retry)`,
    );
    this.cancelRetry(cls, name);
    this.#armRetry(cls, name, envForRetry, retry * 1000);
  }

  /** Start instance `name` of `cls` again in `ms` (`respawn retry`). */
  #armRetry(cls: JobClassEntry, name: string, env: Env, ms: number): void {
    const timer = this.#o.timers.set(ms, () => {
      cls.retries?.delete(name);
      this.#classChanged(cls);
      this.#run(() => {
        if (cls.deleted) return;
        this.#o.log(`${instanceLabel(cls.job.name, name)} retrying after respawn limit`);
        this.startInstance(cls, name, env, null);
      });
    });
    (cls.retries ??= new Map()).set(name, { timer, at: this.#o.timers.now() + ms, env });
    // Recorded at once: a daemon killed right after a give-up must still retry.
    this.#classChanged(cls, true);
  }

  /**
   * Drop the pending `respawn retry` start of instance `name` (an explicit start or stop makes
   * it moot). True when there was one.
   */
  cancelRetry(cls: JobClassEntry, name: string): boolean {
    const pending = cls.retries?.get(name);
    if (pending === undefined) return false;
    this.#o.timers.clear(pending.timer);
    cls.retries!.delete(name);
    this.#classChanged(cls);
    this.#o.log(`${instanceLabel(cls.job.name, name)} respawn retry cancelled`);
    return true;
  }

  #cancelRetries(cls: JobClassEntry): void {
    for (const r of cls.retries?.values() ?? []) this.#o.timers.clear(r.timer);
    cls.retries?.clear();
  }

  #newInstance(cls: JobClassEntry, name: string): Instance {
    const inst: Instance = {
      cls,
      job: cls.job,
      name,
      st: newInstance(this.#o.timers.now()),
      env: classEnv(cls.job, this.#o.jobEnv),
      pendingEnv: null,
      stopEnv: null,
      stopMatch: null,
      blocking: [],
      blocker: null,
      timers: {},
      timerDue: {},
      respawnAt: null,
      backoff: 0,
      spawnFailures: 0,
      destroyed: false,
    };
    cls.instances.set(name, inst);
    return inst;
  }

  #destroy(inst: Instance): void {
    inst.destroyed = true;
    if (inst.job.console === "log") this.#o.logs?.detach(inst.job, inst.name);
    this.#o.recorder?.instanceChanged(inst, true);
    for (const id of Object.values(inst.timers)) this.#o.timers.clear(id);
    inst.timers = {};
    this.events.release(inst.stopMatch);
    inst.stopMatch = null;
    const cls = inst.cls;
    cls.instances.delete(inst.name);
    if (cls.instances.size === 0) {
      // A class whose file changed takes its new definition now; a deleted one goes.
      if (cls.deleted) {
        for (const [name, c] of this.classes) if (c === cls) this.#dropClass(name, c);
      } else if (cls.pending) {
        this.#define(cls, cls.pending);
      }
    }
  }

  #dropClass(name: string, cls: JobClassEntry): void {
    this.#cancelRetries(cls);
    this.classes.delete(name);
    this.#unindex(cls);
    this.#o.recorder?.classChanged(cls, name);
  }

  /** Tell the recorder that a class's match, retries or failures changed. */
  #classChanged(cls: JobClassEntry, urgent = false): void {
    if (this.#o.recorder) this.#o.recorder.classChanged(cls, cls.job.name, urgent);
  }

  // ---------------------------------------------------------------- events

  #handleEvent(event: QueuedEvent): void {
    // Only the classes whose `start on` or instances' `stop on` name this event (an operand
    // matches an event of its own name only), in the order the classes were made.
    const relevant = [...this.#byEvent.get(event.name) ?? []]
      .filter((c) => this.classes.get(c.job.name) === c)
      .sort((a, b) => (this.#order.get(a) ?? 0) - (this.#order.get(b) ?? 0));
    for (const cls of relevant) {
      for (const inst of [...cls.instances.values()]) this.#offerStop(inst, event);
      this.#offerStart(cls, event);
    }
    event.handled = true;
    if (event.blockers === 0) this.events.finish(event);
  }

  #offerStop(inst: Instance, event: QueuedEvent): void {
    if (!inst.stopMatch || inst.destroyed) return;
    const node = this.events.offer(inst.stopMatch, event, inst.env);
    inst.stopMatch = node;
    if (!isSatisfied(node)) return;
    const events = satisfyingEvents(node);
    if (inst.st.goal !== "stop") {
      const matched = eventEnvironment(node);
      const stopEnv: Env = Object.fromEntries(matched.env);
      stopEnv.UPSTART_STOP_EVENTS = matched.names.join(" ");
      inst.stopEnv = stopEnv;
      this.#finished(inst, false);
      for (const ev of events) this.#blockOn(inst, ev.id);
      this.#step(inst, { type: "goal", goal: "stop" });
    }
    inst.stopMatch = this.events.reset(node);
  }

  #offerStart(cls: JobClassEntry, event: QueuedEvent): void {
    if (!cls.startMatch || cls.deleted) return;
    const node = this.events.offer(cls.startMatch, event, undefined);
    if (node !== cls.startMatch) this.#classChanged(cls);
    cls.startMatch = node;
    if (!isSatisfied(node)) return;
    const events = satisfyingEvents(node);
    const matched = eventEnvironment(node);
    const env = startEnv(cls.job, this.#o.jobEnv, matched.env, matched.names);
    let name: string;
    try {
      name = this.instanceName(cls, env);
    } catch (e) {
      const why = e instanceof ExpandError ? e.message : String(e);
      this.#o.log(`${cls.job.name}: cannot start instance: ${why}`);
      cls.startMatch = this.events.reset(node);
      return;
    }
    let inst = cls.instances.get(name);
    if (!inst || inst.st.goal === "stop") {
      this.cancelRetry(cls, name);
      inst ??= this.#newInstance(cls, name);
      inst.pendingEnv = env;
      this.#finished(inst, false);
      for (const ev of events) this.#blockOn(inst, ev.id);
      this.#step(inst, { type: "goal", goal: "start" });
    }
    cls.startMatch = this.events.reset(node);
  }

  #blockOn(inst: Instance, id: number): void {
    const ev = this.events.hold(id);
    if (ev) inst.blocking.push({ event: ev });
  }
}

/**
 * An unchanged file parses to an equal job: keep the old one then, so a reload (any file in the
 * conf dir changed) does not reset the partly matched `start on` of every other job.
 */
function sameJob(a: JobClass, b: JobClass): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function errorText(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}

/** What an effect was doing, for the error boundary's message. */
function describeEffect(effect: Effect): string {
  switch (effect.type) {
    case "kill":
    case "signal":
      return `send ${effect.signal} to process ${effect.pid}`;
    case "killGroup":
      return `send ${effect.signal} to process group ${effect.pgid}`;
    case "spawn":
      return `spawn its ${PROCESS_NAMES[effect.kind]} process`;
    default:
      return effect.type;
  }
}

function kindName(kind: ProcessKind): string {
  return kind === "main" ? "main" : kind.replace(/[A-Z]/, (c) => `-${c.toLowerCase()}`);
}
