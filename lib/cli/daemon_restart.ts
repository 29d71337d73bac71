/**
 * The daemon's side of restarts: at start, whether it is a fresh start, a re-exec (the same
 * process, its children still its own) or a restart after a crash (the jobs' parent is now
 * someone else); bringing the recorded state back; keeping the records up to date; and
 * `reexec`: handing the whole state over to a new program in place (execve keeps the pid, so
 * jobs stay our children and their exits still reach us).
 *
 * A clean stop (SIGTERM: every job stopped) forgets the records, so the next start is fresh and
 * emits the boot events again; so does a new boot (another boot id).
 */

import type { DaemonRecord } from "../supervisor/snapshot.ts";
import { StateStore } from "../supervisor/state_store.ts";
import { Recorder } from "../supervisor/recorder.ts";
import { bootId, processStart } from "../process/proc.ts";
import type { Supervisor } from "../supervisor/supervisor.ts";
import type { HealthSupervision } from "../supervisor/health.ts";
import { execSelf, ownArgv } from "../process/self_exec.ts";

export type RestartMode = "fresh" | "reexec" | "recover";

/** This process as a record knows it. */
export interface Self {
  readonly pid: number;
  readonly start: number | null;
  readonly bootId: string;
}

/** What kind of start this is, from the daemon record an earlier daemon left. Pure. */
export function restartMode(record: DaemonRecord | null, me: Self): RestartMode {
  if (!record || !me.bootId || record.bootId !== me.bootId) return "fresh";
  if (record.pid === me.pid && record.start === me.start) return "reexec";
  return "recover";
}

export class DaemonRestart {
  readonly store: StateStore;
  readonly me: Self;
  readonly mode: RestartMode;
  readonly #loaded: ReturnType<StateStore["load"]>;
  recorder: Recorder | null = null;
  /** See DaemonRecord.bootPending: set before the first record, cleared by bootDone. */
  bootPending = false;

  constructor(stateDir: string, private readonly log: (m: string) => void) {
    this.store = new StateStore(stateDir, log);
    this.me = { pid: Deno.pid, start: processStart(Deno.pid), bootId: bootId() };
    this.#loaded = this.store.load();
    this.mode = restartMode(this.#loaded.daemon, this.me);
    for (const f of this.#loaded.unreadable) log(`state record ${f} cannot be read: ignored`);
    if (this.mode === "fresh") this.store.clear();
  }

  /**
   * Whether this daemon is to emit the boot events: a fresh start, or a restart of a daemon that
   * died before what its boot events started was recorded.
   */
  get bootEventsDue(): boolean {
    return this.mode === "fresh" || this.#loaded.daemon?.bootPending === true;
  }

  /** The boot events are emitted: record what they started, and that they were. */
  bootDone(sup: Supervisor): void {
    if (!this.bootPending) return;
    this.bootPending = false;
    this.recordAll(sup);
    this.recorder?.flush();
  }

  /** The job environment (set-env) the earlier daemon had, when this is not a fresh start. */
  get jobEnv(): Record<string, string> | null {
    return this.mode === "fresh" ? null : this.#loaded.daemon?.jobEnv ?? null;
  }

  /** The recorder the supervisor reports its changes to. */
  makeRecorder(
    sup: () => Supervisor,
    health: () => HealthSupervision | null,
    spawnedStart: (pid: number) => number | undefined = () => undefined,
  ): Recorder {
    this.recorder = new Recorder({
      store: this.store,
      now: () => performance.now(),
      wallOffset: () => Date.now() - performance.now(),
      processStart: (pid) => spawnedStart(pid) ?? processStart(pid),
      health: (inst) => health()?.exportState(inst) ?? null,
      jobEnv: () => sup().jobEnv,
      daemon: () => ({ ...this.me, bootPending: this.bootPending }),
    });
    return this.recorder;
  }

  /** Bring back the earlier daemon's jobs (not for a fresh start); then record everything. */
  restore(sup: Supervisor, health: HealthSupervision): void {
    if (this.mode !== "fresh") {
      const { adopted, ended } = sup.restore(
        { ...this.#loaded, daemonStart: this.#loaded.daemon?.start ?? null },
        Date.now() - performance.now(),
        (inst, rec) => health.importState(inst, rec.health),
      );
      this.log(
        `${this.mode === "reexec" ? "re-exec" : "restart"}: ${this.#loaded.instances.length} ` +
          `instances restored, ${adopted} processes kept, ${ended} had ended`,
      );
    }
    this.recordAll(sup);
    this.recorder?.flush();
  }

  recordAll(sup: Supervisor): void {
    const instances = [...sup.classes.values()].flatMap((c) => [...c.instances.values()]);
    this.recorder?.recordAll(instances, sup.classes.entries());
  }

  /** A clean stop: nothing is left to take over. */
  forget(): void {
    this.store.clear(true);
  }

  /**
   * Replace this program with `program` (null: the same one, same command line), handing over
   * the state. `before` closes what the new program opens again (sockets, watchers, the log);
   * returns only on failure, with the system's words, after `after` reopened them.
   */
  reexec(
    sup: Supervisor,
    program: string | null,
    daemonArgs: readonly string[],
    before: () => void,
    after: () => void,
  ): string {
    this.recordAll(sup);
    this.recorder?.flush(true);
    const argv = program === null ? ownArgv() : [program, "daemon", ...daemonArgs];
    if (!argv) return "cannot read this process's command line";
    before();
    const error = execSelf(program ?? Deno.execPath(), argv, Deno.env.toObject());
    after();
    return error;
  }
}
