/**
 * The job-instance state machine: `step(job, instance, input, now) -> { instance, effects }`. Pure: no
 * Deno APIs, no clock, no processes. The loop (lib/supervisor/supervisor.ts) feeds it inputs
 * (goal changes, process spawns and exits, blocking events finishing, timers) and carries out the
 * effects it returns (spawn, kill, emit, timers, log, release waiters).
 *
 * Upstart's model, kept here: every instance has a *goal* (what it should be: `start` or `stop`,
 * and `respawn` while a main process that must respawn waits for a running post-start or pre-stop
 * to end) and a *state* (where it is). A goal change only moves the machine from the two rest
 * states (`waiting`, `running`); elsewhere the current step (a process, or a blocking event)
 * finishes first and the next state is then read from TRANSITIONS (transitions.ts) for the goal at
 * that moment. So a stop during pre-start or post-start lets that process run to its end (Ubuntu's
 * ssh job calls `stop` from its pre-start and goes on), and a main process that ends while
 * `stopping` is held by another job changes nothing: the event's end moves the machine on.
 *
 * | state      | goal start            | goal stop                                | goal respawn          |
 * |------------|-----------------------|------------------------------------------|-----------------------|
 * | waiting    | starting              | -                                        | -                     |
 * | starting   | pre-start             | stopping                                 | -                     |
 * | pre-start  | spawned               | stopping                                 | -                     |
 * | spawned    | post-start            | stopping                                 | stopping (goal->start) |
 * | post-start | running               | stopping                                 | stopping (goal->start) |
 * | running    | stopping (main ended) | pre-stop if main alive, else stopping    | stopping (goal->start) |
 * | pre-stop   | running (cancelled)   | stopping                                 | stopping (goal->start) |
 * | stopping   | killed                | killed                                   | -                     |
 * | killed     | post-stop             | post-stop                                | -                     |
 * | post-stop  | starting (respawn)    | waiting                                  | -                     |
 *
 * Entering a state does its work: `starting`/`stopping` emit a blocking event and wait for it to
 * finish; `pre-start`, `spawned`, `post-start`, `pre-stop`, `post-stop` run their process if the
 * job has one (else move on); `killed` sends the kill signal to the main process group and arms the
 * kill timer; `running` emits `started`; `waiting` emits `stopped` and ends the instance.
 *
 * How an ended process moves the machine (Upstart's job_process_terminated):
 * - pre-start: non-zero or a signal fails the job (goal stop); then the next state.
 * - post-start, pre-stop: failure is ignored; the next state.
 * - post-stop: non-zero or a signal fails the job (goal stop); then the next state.
 * - main: in `killed`, the next state (once the strays of its group are gone too); in `stopping`,
 *   nothing. Otherwise, with goal start, an exit that is non-zero, a signal, or any end of a
 *   respawning service, and not in `normal exit`, is a failure: a respawning job respawns (goal
 *   `respawn`, which turns back to start on the way to stopping; it shows while a post-start or
 *   pre-stop still runs) unless it runs away (`respawn limit`: failed, PROCESS=respawn); a job
 *   without respawn fails (PROCESS=main). Every end but a respawn sets goal stop. The state moves
 *   on at once, except while a post-start or pre-stop still runs (its end moves it).
 *   (upkeep: a main process that ends while `spawned`, or cannot be spawned, with respawn, goes
 *   to stopping and respawns, where Upstart would go on to post-start without a main process.)
 */

import type { JobClass, ProcessKind } from "../job/model.ts";
import { PROCESS_NAMES } from "../job/model.ts";
import { signalNumber } from "../process/signals.ts";

export type { Goal, State, Transition } from "./transitions.ts";
export { nextState, TRANSITIONS } from "./transitions.ts";
import { type Goal, nextState, type State } from "./transitions.ts";

/** How a process ended: an exit code, or the signal (name without SIG) that killed it. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: string | null;
}

/** Why an instance failed, as carried by `stopping`/`stopped` (`RESULT=failed PROCESS=...`). */
export interface Failure {
  /** Upstart's process name (`main`, `pre-start`, ...) or `respawn` for a respawn-limit stop. */
  readonly process: string;
  /** null for spawn failures and respawn-limit stops. */
  readonly exit: ExitStatus | null;
  /** Why a spawn failed, in the system's words. */
  readonly error?: string;
}

export interface InstanceState {
  readonly goal: Goal;
  readonly state: State;
  /** Live processes by kind. */
  readonly pids: Readonly<Partial<Record<ProcessKind, number>>>;
  readonly failure: Failure | null;
  /** Exit of the main process that ended last (for status and respawn accounting). */
  readonly lastExit: ExitStatus | null;
  /** Runaway check window: start (ms) and respawns counted in it. */
  readonly respawnWindow: { readonly start: number; readonly count: number };
  /** Respawns so far (informational). */
  readonly respawns: number;
  /**
   * expect fork/daemon: forks still to follow before the main process is the daemon; expect stop:
   * 1 until the main process has stopped itself.
   */
  readonly forksLeft: number;
  /**
   * The main process was spawned through upkeep's set-up helper, which has not exec'd the job's
   * program yet: `spawned` waits for it (a set-up or exec failure is a spawn failure, as Upstart's
   * own spawn reports it before the job moves on).
   */
  readonly execPending: boolean;
  /** True while waiting on our own blocking `starting`/`stopping` event. */
  readonly blocked: boolean;
  /** When the state last changed (ms, injected clock). */
  readonly since: number;
  /** When the main process was spawned (ms), for back-off reset. */
  readonly mainStartedAt: number | null;
  /** Seconds to wait in post-stop before a respawn (`respawn delay`), set by the supervisor. */
  readonly respawnDelay: number;
  /**
   * The process group a main process that ended left behind with live members, or null. Such
   * strays get the kill signal (then SIGKILL) in `killed`, before the job respawns or stops.
   */
  readonly strays: number | null;
}

export type Input =
  | { readonly type: "goal"; readonly goal: "start" | "stop" }
  /**
   * The daemon shuts down: goal stop, and a running pre-start or post-start gets the kill signal
   * (then SIGKILL after the kill timeout) instead of being waited for.
   */
  | { readonly type: "shutdown" }
  /** restart: goal stop then start without going through waiting. */
  | { readonly type: "restart" }
  /**
   * upkeep (an unhealthy instance): from running, stop and start again the way a respawn does:
   * straight to stopping (no pre-stop: it would talk to a hung daemon), kill, post-stop, starting.
   */
  | { readonly type: "respawn" }
  /** `execPending`: the main process is upkeep's set-up helper; `execed` follows when it exec'd. */
  | {
    readonly type: "spawned";
    readonly kind: ProcessKind;
    readonly pid: number;
    readonly execPending?: boolean;
  }
  /** The set-up helper of the main process `pid` exec'd the job's program. */
  | { readonly type: "execed"; readonly pid: number }
  | { readonly type: "spawnFailed"; readonly kind: ProcessKind; readonly error: string }
  /**
   * A process ended. `strays`: for the main process, the process group it leaves behind with live
   * members (its children that did not leave the group), which `killed` cleans up.
   */
  | {
    readonly type: "exited";
    readonly kind: ProcessKind;
    readonly status: ExitStatus;
    readonly strays?: number | null;
  }
  /** The process group in `strays` has no live member any more. */
  | { readonly type: "groupGone" }
  /**
   * expect fork/daemon: the main process forked and `pid` is the main process now (null when no
   * child was found); `final` when it is the daemon itself rather than an intermediate that will
   * fork again.
   */
  | { readonly type: "forked"; readonly pid: number | null; readonly final?: boolean }
  /** expect stop: the main process stopped itself (SIGSTOP) and waits for its SIGCONT. */
  | { readonly type: "stopped" }
  /** expect fork/daemon/stop: the main process did not do what it should within EXPECT_TIMEOUT. */
  | { readonly type: "expectTimeout" }
  | { readonly type: "eventFinished" }
  | { readonly type: "killTimeout" }
  | { readonly type: "respawnDelayOver" }
  /**
   * Restored after a daemon restart, no process of it having ended meanwhile: the process its
   * state waits for (a hook, or the main process in spawned) was never recorded, so the earlier
   * daemon died before spawning it (a spawn held for the next turn, or one of a burst): spawn it
   * now, or the instance would wait there for ever. `respawnTimer`: a respawn delay is armed.
   */
  | { readonly type: "resume"; readonly respawnTimer: boolean };

/**
 * How much a log line matters: `debug` (goal and state changes: only with --debug, as Upstart's
 * --verbose), `info` (a process started or ended, a respawn: always, but rate-limited per job),
 * `notice` (failures and give-ups: always). Lines without a level are notices.
 */
export type LogLevel = "debug" | "info" | "notice";

export type JobEventName = "starting" | "started" | "stopping" | "stopped";

/** The timers of an instance: kill timeout, respawn back-off, and the wait for `expect`. */
export type TimerName = "kill" | "respawn" | "expect";

/**
 * Seconds a main process may take to fork as `expect fork`/`expect daemon` says (or to stop
 * itself, `expect stop`) before the start fails. Upstart waits forever; upkeep gives up.
 */
export const EXPECT_TIMEOUT = 10;

export type Effect =
  | { readonly type: "spawn"; readonly kind: ProcessKind }
  /** The kill signal to a process and its group (a SIGKILL sweep of the group follows later). */
  | { readonly type: "kill"; readonly pid: number; readonly signal: string }
  /** A signal to what is left of a process group (strays of a main process that ended). */
  | { readonly type: "killGroup"; readonly pgid: number; readonly signal: string }
  /** A signal to one process only (expect stop's SIGCONT). */
  | { readonly type: "signal"; readonly pid: number; readonly signal: string }
  | { readonly type: "armTimer"; readonly timer: TimerName; readonly seconds: number }
  | { readonly type: "cancelTimer"; readonly timer: TimerName }
  | {
    readonly type: "emit";
    readonly event: JobEventName;
    readonly env: readonly (readonly [string, string])[];
    readonly blocking: boolean;
  }
  /** Release events and callers blocked on this instance (Upstart's job_finished). */
  | { readonly type: "finished"; readonly failed: boolean }
  | { readonly type: "log"; readonly message: string; readonly level?: LogLevel }
  | { readonly type: "respawnLimit" }
  /** The instance reached waiting with goal stop: remove it. */
  | { readonly type: "destroy" };

export interface StepResult {
  readonly instance: InstanceState;
  readonly effects: readonly Effect[];
}

/** A new instance: waiting, goal stop. */
export function newInstance(now: number): InstanceState {
  return {
    goal: "stop",
    state: "waiting",
    pids: {},
    failure: null,
    lastExit: null,
    respawnWindow: { start: 0, count: 0 },
    respawns: 0,
    forksLeft: 0,
    execPending: false,
    blocked: false,
    since: now,
    mainStartedAt: null,
    respawnDelay: 0,
    strays: null,
  };
}

/** Upstart's exit-status encoding: code N -> N, signal S -> S << 8. */
export function encodeExit(status: ExitStatus): number {
  if (status.signal !== null) return (signalNumber(status.signal) ?? 0) << 8;
  return status.code ?? 0;
}

/**
 * The exit of a process that ended while no daemon was its parent (adopted after a restart):
 * neither a code nor a signal is known.
 */
export function isUnknownExit(status: ExitStatus): boolean {
  return status.code === null && status.signal === null;
}

/** Is this exit listed in `normal exit`? */
export function isNormalExit(job: JobClass, status: ExitStatus): boolean {
  return job.normalExit.some((entry) =>
    typeof entry === "number"
      ? status.signal === null && status.code === entry
      : status.signal !== null && signalNumber(status.signal) === signalNumber(entry)
  );
}

/**
 * `terminated with status N` / `killed by TERM signal` (`killed by signal 64` for a signal without
 * a name), as Upstart logs process ends.
 */
export function describeExitStatus(status: ExitStatus): string {
  if (isUnknownExit(status)) return "ended (exit status unknown: not a child of this upkeep)";
  if (status.signal === null) return `terminated with status ${status.code ?? 0}`;
  return /^\d+$/.test(status.signal)
    ? `killed by signal ${status.signal}`
    : `killed by ${status.signal} signal`;
}

/** A failure in words, for status and doctor: `main process terminated with status 3`, ... */
export function describeFailure(f: Failure, lastExit: ExitStatus | null): string {
  if (f.process === "respawn") {
    return `respawning too fast${lastExit ? ` (last: ${describeExitStatus(lastExit)})` : ""}`;
  }
  if (f.error !== undefined) return `${f.process} process: ${f.error}`;
  if (f.exit) return `${f.process} process ${describeExitStatus(f.exit)}`;
  return `${f.process} process failed`;
}

/** Name used in log lines: `job` or `job (instance)`. */
export function instanceLabel(jobName: string, instanceName: string): string {
  return instanceName ? `${jobName} (${instanceName})` : jobName;
}

/** The process a state waits for, where it waits for one. */
const STATE_PROCESS: Partial<Record<State, ProcessKind>> = {
  "pre-start": "preStart",
  spawned: "main",
  "post-start": "postStart",
  "pre-stop": "preStop",
  "post-stop": "postStop",
};

/**
 * The process `st`'s state waits for and that it lacks (a hook, or main in spawned), or null:
 * what a restored instance that lost no process still has to spawn (the `resume` input).
 * `respawnTimer`: a respawn delay is armed (a post-stop then waits for it, not for its hook).
 */
export function awaitedProcess(st: InstanceState, respawnTimer: boolean): ProcessKind | null {
  const kind = STATE_PROCESS[st.state];
  if (kind === undefined || st.blocked || st.pids[kind] !== undefined) return null;
  if (st.state === "post-stop" && respawnTimer) return null; // the hook is done: the delay runs
  return kind;
}

/** Advance one input. `now` is milliseconds from an injected monotonic clock. */
export function step(
  job: JobClass,
  instanceName: string,
  current: InstanceState,
  input: Input,
  now: number,
): StepResult {
  const m = new Machine(job, instanceName, current, now);
  m.handle(input);
  return { instance: m.s, effects: m.effects };
}

type Draft = { -readonly [K in keyof InstanceState]: InstanceState[K] } & {
  pids: Partial<Record<ProcessKind, number>>;
};

/** The mutable draft used inside one step(); nothing of it escapes but the final copy. */
class Machine {
  s: Draft;
  readonly effects: Effect[] = [];
  readonly label: string;

  constructor(
    readonly job: JobClass,
    readonly name: string,
    current: InstanceState,
    readonly now: number,
  ) {
    this.s = { ...current, pids: { ...current.pids } };
    this.label = instanceLabel(job.name, name);
  }

  emit(effect: Effect): void {
    this.effects.push(effect);
  }

  handle(input: Input): void {
    switch (input.type) {
      case "goal":
        return this.changeGoal(input.goal);
      case "shutdown": {
        const hook = this.s.state === "pre-start"
          ? this.s.pids.preStart
          : this.s.state === "post-start"
          ? this.s.pids.postStart
          : undefined;
        if (hook !== undefined && this.s.goal !== "stop") {
          this.emit({ type: "kill", pid: hook, signal: this.job.killSignal });
          this.emit({ type: "armTimer", timer: "kill", seconds: this.job.killTimeout });
        }
        return this.changeGoal("stop");
      }
      case "restart":
        // Upstart's restart: goal stop then goal start; from running this goes through
        // pre-stop/stopping ... post-stop and straight back to starting.
        this.changeGoal("stop");
        this.changeGoal("start");
        return;
      case "respawn":
        if (this.s.state === "running" && this.s.goal === "start") this.changeGoal("respawn");
        return;
      case "spawned":
        this.s.pids[input.kind] = input.pid;
        if (input.kind === "main") {
          this.s.mainStartedAt = this.now;
          this.s.execPending = input.execPending === true;
          if (this.s.state !== "spawned") return;
          if (this.s.forksLeft === 0) return this.s.execPending ? undefined : this.advance();
          this.emit({ type: "armTimer", timer: "expect", seconds: EXPECT_TIMEOUT });
        }
        return;
      case "execed":
        if (!this.s.execPending || this.s.pids.main !== input.pid) return;
        this.s.execPending = false;
        if (this.s.state === "spawned" && this.s.forksLeft === 0) this.advance();
        return;
      case "spawnFailed":
        return this.spawnFailed(input.kind, input.error);
      case "exited":
        if (input.kind === "main") this.s.strays = input.strays ?? null;
        return this.exited(input.kind, input.status);
      case "groupGone":
        this.s.strays = null;
        if (this.s.state === "killed" && this.s.pids.main === undefined) {
          this.emit({ type: "cancelTimer", timer: "kill" });
          this.advance();
        }
        return;
      case "forked":
        return this.forked(input.pid, input.final ?? false);
      case "stopped":
        return this.selfStopped();
      case "expectTimeout":
        return this.expectTimeout();
      case "eventFinished":
        if (!this.s.blocked) return;
        this.s.blocked = false;
        return this.advance();
      case "killTimeout": {
        const pid = this.s.state === "killed"
          ? this.s.pids.main
          : this.s.state === "pre-start"
          ? this.s.pids.preStart
          : this.s.state === "post-start"
          ? this.s.pids.postStart
          : undefined;
        if (pid !== undefined) {
          this.emit({
            type: "log",
            message: `${this.label} process (${pid}) killed after kill timeout`,
          });
          this.emit({ type: "kill", pid, signal: "KILL" });
        } else if (this.s.state === "killed" && this.s.strays !== null) {
          this.emit({
            type: "log",
            message: `${this.label} processes left in group ${this.s.strays} killed after kill ` +
              `timeout`,
          });
          this.emit({ type: "killGroup", pgid: this.s.strays, signal: "KILL" });
        }
        return;
      }
      case "respawnDelayOver":
        if (this.s.state === "post-stop" && this.s.pids.postStop === undefined) {
          this.s.respawnDelay = 0;
          this.advance();
        }
        return;
      case "resume":
        return this.resume(input.respawnTimer);
    }
  }

  /** See the `resume` input: do again what entering the current state does, if it is missing. */
  resume(respawnTimer: boolean): void {
    const state = this.s.state;
    if (this.s.blocked) return; // starting/stopping: the restore releases their event
    if (state === "killed") {
      // Waiting for a main process or strays that are not there: nothing to wait for.
      if (this.s.pids.main === undefined && this.s.strays === null) this.advance();
      return;
    }
    const kind = awaitedProcess(this.s, respawnTimer);
    if (kind === null) return;
    if (this.job[kind] !== null) {
      this.emit({
        type: "log",
        message: `${this.label} ${PROCESS_NAMES[kind]} process was not started before the ` +
          "restart: starting it now",
      });
    }
    const wait = this.enter(state, state);
    if (wait === "destroyed" || wait) return;
    this.advance();
  }

  changeGoal(goal: Goal): void {
    if (this.s.goal === goal) return;
    this.emit({
      type: "log",
      message: `${this.label} goal changed from ${this.s.goal} to ${goal}`,
      level: "debug",
    });
    this.s.goal = goal;
    // A running pre-start or post-start runs to its end (Ubuntu's ssh job calls `stop` from its
    // pre-start and goes on); the next state is then chosen from the new goal.
    if (goal === "start" && this.s.state === "waiting") this.advance();
    else if (goal !== "start" && this.s.state === "running") this.advance();
    else if (
      goal === "stop" && this.s.state === "post-stop" && this.s.respawnDelay > 0 &&
      this.s.pids.postStop === undefined
    ) {
      // Stop during a respawn back-off: no need to wait the delay out.
      this.emit({ type: "cancelTimer", timer: "respawn" });
      this.s.respawnDelay = 0;
      this.advance();
    }
  }

  /** Move to the next state for the current goal, then keep entering states while they need no wait. */
  advance(): void {
    const next = nextState(this.s.state, this.s.goal, this.s.pids.main !== undefined);
    this.s.goal = next.goal;
    this.changeState(next.state);
  }

  changeState(target: State): void {
    let state = target;
    while (this.s.state !== state) {
      const old = this.s.state;
      this.emit({
        type: "log",
        message: `${this.label} state changed from ${old} to ${state}`,
        level: "debug",
      });
      this.s.state = state;
      this.s.since = this.now;
      const wait = this.enter(state, old);
      if (wait === "destroyed") return;
      if (wait) return;
      const next = nextState(this.s.state, this.s.goal, this.s.pids.main !== undefined);
      this.s.goal = next.goal;
      state = next.state;
    }
  }

  /** Do the work of entering `state`. Returns true to wait there, false to move on at once. */
  enter(state: State, old: State): boolean | "destroyed" {
    const job = this.job;
    switch (state) {
      case "starting":
        this.s.failure = null;
        this.s.blocked = true;
        this.emit({ type: "emit", event: "starting", env: this.eventEnv(false), blocking: true });
        return true;
      case "pre-start":
        return this.runHook("preStart");
      case "spawned":
        if (!job.main) return false;
        // The runner answers at once with `spawned` (which moves on unless expect fork/daemon
        // must see the forks first) or `spawnFailed`.
        this.s.forksLeft = job.expect === "fork" || job.expect === "stop"
          ? 1
          : job.expect === "daemon"
          ? 2
          : 0;
        this.emit({ type: "spawn", kind: "main" });
        return true;
      case "post-start":
        return this.runHook("postStart");
      case "running":
        if (old === "pre-stop") {
          this.emit({ type: "finished", failed: false });
          return true;
        }
        this.emit({ type: "emit", event: "started", env: this.eventEnv(false), blocking: false });
        if (!job.task) {
          this.emit({ type: "finished", failed: false });
        } else if (this.s.pids.main === undefined) {
          // A task with nothing running is done.
          this.s.goal = "stop";
          return false;
        }
        return true;
      case "pre-stop":
        return this.runHook("preStop");
      case "stopping":
        this.s.blocked = true;
        this.emit({ type: "emit", event: "stopping", env: this.eventEnv(true), blocking: true });
        return true;
      case "killed": {
        const pid = this.s.pids.main;
        if (job.main && pid !== undefined) {
          this.emit({ type: "kill", pid, signal: job.killSignal });
        } else if (this.s.strays !== null) {
          // The main process ended on its own and left processes in its group: those go first.
          this.emit({
            type: "log",
            message: `${this.label} stopping the processes left in group ${this.s.strays}`,
          });
          this.emit({ type: "killGroup", pgid: this.s.strays, signal: job.killSignal });
        } else {
          return false;
        }
        this.emit({ type: "armTimer", timer: "kill", seconds: job.killTimeout });
        return true;
      }
      case "post-stop":
        if (this.runHook("postStop")) return true;
        if (this.s.goal !== "stop" && this.s.respawnDelay > 0) {
          this.emit({ type: "armTimer", timer: "respawn", seconds: this.s.respawnDelay });
          return true;
        }
        return false;
      case "waiting":
        this.emit({ type: "emit", event: "stopped", env: this.eventEnv(true), blocking: false });
        this.emit({ type: "finished", failed: false });
        this.emit({ type: "destroy" });
        return "destroyed";
    }
  }

  /** Start a hook process if the job has one; true to wait for it. */
  runHook(kind: "preStart" | "postStart" | "preStop" | "postStop"): boolean {
    if (!this.job[kind]) return false;
    this.emit({ type: "spawn", kind });
    return true;
  }

  spawnFailed(kind: ProcessKind, error: string): void {
    this.emit({
      type: "log",
      message: `Failed to spawn ${this.label} ${PROCESS_NAMES[kind]} process: ${error}`,
    });
    delete this.s.pids[kind];
    if (kind === "main") {
      this.s.execPending = false;
      if (this.s.forksLeft > 0) {
        this.s.forksLeft = 0;
        this.emit({ type: "cancelTimer", timer: "expect" });
      }
    }
    if (
      kind === "main" && this.job.respawn && this.s.goal !== "stop" && this.s.state === "spawned"
    ) {
      // upkeep: a main process that cannot be spawned (a chdir directory not there yet, a full
      // log disk, EAGAIN) is tried again as a crash is: respawn limit, delay and retry apply.
      this.s.forksLeft = 0;
      this.respawnOrGiveUp("main process will be spawned again");
      return this.advance();
    }
    switch (kind) {
      case "preStart":
      case "main":
      case "postStop":
        this.fail({ process: PROCESS_NAMES[kind], exit: null, error });
        this.s.goal = "stop";
        if (kind === "main" && this.s.state !== "spawned") return;
        return this.advance();
      case "postStart":
      case "preStop":
        return this.advance();
    }
  }

  fail(failure: Failure): void {
    if (this.s.failure) return;
    this.s.failure = failure;
    this.emit({ type: "finished", failed: true });
  }

  exited(kind: ProcessKind, status: ExitStatus): void {
    const pid = this.s.pids[kind];
    delete this.s.pids[kind];
    const what = `${this.label} ${PROCESS_NAMES[kind]} process${pid ? ` (${pid})` : ""}`;
    const abnormal = !isUnknownExit(status) && (status.signal !== null || status.code !== 0);
    if (abnormal || kind === "main") {
      this.emit({ type: "log", message: `${what} ${describeExitStatus(status)}`, level: "info" });
    }
    switch (kind) {
      case "main":
        return this.mainExited(status);
      case "preStart":
        if (this.s.state === "pre-start") this.emit({ type: "cancelTimer", timer: "kill" });
        // A failed pre-start fails the job even when a stop was asked for meanwhile (Upstart).
        if (abnormal) {
          this.fail({ process: "pre-start", exit: status });
          this.s.goal = "stop";
        }
        if (this.s.state === "pre-start") this.advance();
        return;
      case "postStart":
        if (this.s.state === "post-start") {
          this.emit({ type: "cancelTimer", timer: "kill" });
          this.advance();
        }
        return;
      case "preStop":
        if (this.s.state === "pre-stop") this.advance();
        return;
      case "postStop":
        if (abnormal) {
          this.fail({ process: "post-stop", exit: status });
          this.s.goal = "stop";
        }
        if (this.s.state === "post-stop") {
          if (this.s.goal !== "stop" && this.s.respawnDelay > 0) {
            this.emit({ type: "armTimer", timer: "respawn", seconds: this.s.respawnDelay });
            return;
          }
          this.advance();
        }
        return;
    }
  }

  mainExited(status: ExitStatus): void {
    const job = this.job;
    this.s.lastExit = status;
    const state = this.s.state;
    if (state === "killed") {
      if (this.s.strays !== null) {
        // What the kill signal did not end yet: the group keeps `killed` until it is empty.
        this.emit({ type: "killGroup", pgid: this.s.strays, signal: this.job.killSignal });
        return;
      }
      this.emit({ type: "cancelTimer", timer: "kill" });
      return this.advance();
    }
    this.s.execPending = false;
    if (state === "spawned" && this.s.forksLeft > 0) {
      // It ended before forking (or stopping) as expected: an end like any other, as Upstart.
      this.s.forksLeft = 0;
      this.emit({ type: "cancelTimer", timer: "expect" });
    }
    // Ending while `stopping` waits on its event changes nothing, neither goal nor verdict (a
    // restart may be under way): the event's end moves the machine on. A main process is not
    // expected to end elsewhere than below (Upstart asserts it); if one does, that is all.
    if (
      state !== "spawned" && state !== "post-start" && state !== "running" && state !== "pre-stop"
    ) return;
    // A post-start or pre-stop moves the machine when it ends (in those states the job has one,
    // running or about to be: a spawn may be held a turn).
    const move = !(
      (state === "post-start" && this.job.postStart !== null) ||
      (state === "pre-stop" && this.job.preStop !== null)
    );
    if (this.s.goal === "start") {
      // An exit we could not see (it ended while no daemon ran): a job with respawn respawns,
      // any other stops without a verdict.
      const failed = isUnknownExit(status)
        ? job.respawn
        : (status.signal !== null || status.code !== 0 || (job.respawn && !job.task)) &&
          !isNormalExit(job, status);
      if (failed && job.respawn) {
        this.respawnOrGiveUp("main process ended, respawning");
      } else if (failed) {
        this.fail({ process: "main", exit: status });
        this.s.goal = "stop";
      } else {
        this.s.goal = "stop";
      }
    } else {
      // A stop was asked for (or is under way): an end is never a failure then.
      this.s.goal = "stop";
    }
    if (move) this.advance();
  }

  forked(pid: number | null, final: boolean): void {
    if (pid === null || this.s.pids.main === undefined) return;
    if (this.s.state !== "spawned") {
      // Being stopped while it forks: the child is the main process to stop now.
      this.s.pids.main = pid;
      if (this.s.state === "killed") {
        this.emit({ type: "kill", pid, signal: this.job.killSignal });
      }
      return;
    }
    this.s.pids.main = pid;
    // A fork of the job's program: the set-up helper has exec'd it.
    this.s.execPending = false;
    this.s.forksLeft = final ? 0 : Math.max(0, this.s.forksLeft - 1);
    if (this.s.forksLeft > 0) return;
    this.emit({ type: "cancelTimer", timer: "expect" });
    this.emit({
      type: "log",
      message: `${this.label} main process (${pid}) is the forked daemon`,
      level: "info",
    });
    this.advance();
  }

  /** expect stop: the main process is stopped; wake it (SIGCONT) and move on. */
  selfStopped(): void {
    const pid = this.s.pids.main;
    if (this.s.state !== "spawned" || this.job.expect !== "stop" || pid === undefined) return;
    this.s.forksLeft = 0;
    this.s.execPending = false;
    this.emit({ type: "cancelTimer", timer: "expect" });
    this.emit({ type: "signal", pid, signal: "CONT" });
    this.advance();
  }

  /** The main process did not fork (or stop) as `expect` says in time: the start fails. */
  expectTimeout(): void {
    if (this.s.state !== "spawned" || this.s.forksLeft === 0) return;
    const pid = this.s.pids.main;
    const what = this.job.expect === "stop"
      ? "did not stop itself (expect stop)"
      : this.job.expect === "daemon" && this.s.forksLeft === 1
      ? "forked once but not twice (expect daemon)"
      : `did not fork (expect ${this.job.expect})`;
    this.emit({
      type: "log",
      message: `${this.label} main process${
        pid === undefined ? "" : ` (${pid})`
      } ${what} within ${EXPECT_TIMEOUT} s: stopping it`,
    });
    this.s.forksLeft = 0;
    this.fail({ process: "main", exit: null, error: `${what} within ${EXPECT_TIMEOUT} s` });
    this.s.goal = "stop";
    this.advance();
  }

  /** A failed main process: respawn it, unless that exceeds `respawn limit` (then stop). */
  respawnOrGiveUp(why: string): void {
    if (this.runaway()) {
      this.emit({ type: "log", message: `${this.label} respawning too fast, stopped` });
      this.emit({ type: "respawnLimit" });
      this.fail({ process: "respawn", exit: null });
      this.s.goal = "stop";
    } else {
      this.emit({ type: "log", message: `${this.label} ${why}`, level: "info" });
      this.s.respawns += 1;
      this.s.goal = "respawn";
    }
  }

  /** Upstart's job_process_catch_runaway: true when this respawn exceeds `respawn limit`. */
  runaway(): boolean {
    const limit = this.job.respawnLimit;
    if (limit === "unlimited" || limit.count <= 0 || limit.interval <= 0) return false;
    const w = this.s.respawnWindow;
    if (this.now - w.start < limit.interval * 1000) {
      this.s.respawnWindow = { start: w.start, count: w.count + 1 };
      return w.count + 1 > limit.count;
    }
    this.s.respawnWindow = { start: this.now, count: 1 };
    return false;
  }

  /** JOB, INSTANCE, RESULT/PROCESS/EXIT_* for stop events, then exported variables. */
  eventEnv(stop: boolean): [string, string][] {
    const env: [string, string][] = [["JOB", this.job.name], ["INSTANCE", this.name]];
    if (stop) {
      const f = this.s.failure;
      if (f) {
        env.push(["RESULT", "failed"], ["PROCESS", f.process]);
        if (f.exit) {
          if (f.exit.signal !== null) env.push(["EXIT_SIGNAL", f.exit.signal]);
          else env.push(["EXIT_STATUS", String(f.exit.code ?? 0)]);
        }
      } else {
        env.push(["RESULT", "ok"]);
      }
    }
    return env;
  }
}
