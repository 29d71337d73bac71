/**
 * Health supervision glue: watches an instance with lib/health's monitor while it is `running`,
 * keeps the last result for `status`, and when the monitor declares it unhealthy logs why, emits
 * `unhealthy JOB=... INSTANCE=... REASON=...` and restarts it when the job has `respawn` (the
 * `respawn` input of instance.ts: no pre-stop, the kill signal, SIGKILL after `kill timeout`).
 *
 * A job without `respawn` is left running and checked on: its status keeps showing the failures
 * (counted on from the verdict) until a check passes again, which is logged (`is healthy
 * again`); `unhealthy` is emitted once per verdict, not on every failed check after it.
 */

import { helperIdentity } from "../process/plan.ts";
import { type Checkers, HealthMonitor, type HealthReport, type Timers } from "../health/monitor.ts";
import type { CheckTarget } from "../health/check.ts";
import type { HealthView } from "./status.ts";
import type { Instance, Supervisor } from "./supervisor.ts";
import { instanceLabel } from "./instance.ts";
import { readProcStat } from "../process/proc.ts";

/** The process group of a job's main process (read from /proc; injectable for tests). */
export type PgidOf = (pid: number) => number;

/** The real user and group a job's main process runs as (null when unknown). */
export type OwnerOf = (pid: number) => { uid: number; gid: number } | null;

const procPgid: PgidOf = (pid) => readProcStat(pid)?.pgrp ?? pid;

const procOwner: OwnerOf = (pid) => {
  try {
    // Still upkeep's set-up helper (root for a few ms): the ids it is about to take.
    const helper = helperIdentity(Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0"));
    if (helper) return helper;
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    const gid = /^Gid:\s+(\d+)/m.exec(status)?.[1];
    return uid === undefined || gid === undefined ? null : { uid: Number(uid), gid: Number(gid) };
  } catch {
    return null; // gone
  }
};

export class HealthSupervision {
  readonly #monitor: HealthMonitor;
  readonly #watched = new Map<string, Instance>();
  readonly #last = new WeakMap<Instance, HealthView>();
  /** Instances declared unhealthy and still checked: failures counted before the current watch. */
  readonly #unhealthy = new WeakMap<Instance, number>();

  readonly #pgidOf: PgidOf;
  readonly #ownerOf: OwnerOf;

  /** `opts` replace the world for tests: the group lookup, the monitor's clock and checks. */
  constructor(
    private readonly sup: Supervisor,
    private readonly log: (m: string) => void,
    opts: { pgidOf?: PgidOf; ownerOf?: OwnerOf; timers?: Timers; checkers?: Checkers } = {},
  ) {
    this.#pgidOf = opts.pgidOf ?? procPgid;
    this.#ownerOf = opts.ownerOf ?? procOwner;
    this.#monitor = new HealthMonitor({
      onReport: (r) => this.#report(r),
      timers: opts.timers,
      checkers: opts.checkers,
    });
  }

  /** Called after every step of an instance: start or stop watching it. */
  update(inst: Instance): void {
    const key = keyOf(inst);
    const health = inst.job.health;
    const running = !inst.destroyed && inst.st.state === "running" && inst.st.goal === "start" &&
      inst.st.pids.main !== undefined;
    const watched = this.#watched.get(key);
    if (running && health && watched !== inst) {
      this.#watched.set(key, inst);
      this.#last.delete(inst);
      this.#unhealthy.delete(inst);
      this.#monitor.watch(key, health, this.#target(inst));
    } else if (!running && watched) {
      this.#watched.delete(key);
      this.#monitor.unwatch(key);
    }
  }

  /** The last result of an instance's checks (null before the first one). */
  view(inst: Instance): HealthView | null {
    return this.#last.get(inst) ?? null;
  }

  stopAll(): void {
    this.#monitor.unwatchAll();
    this.#watched.clear();
  }

  /** What to keep of an instance's health across a restart of the daemon. */
  exportState(inst: Instance): { view: HealthView | null; unhealthy: number | null } | null {
    const view = this.#last.get(inst) ?? null;
    const unhealthy = this.#unhealthy.get(inst) ?? null;
    return view === null && unhealthy === null ? null : { view, unhealthy };
  }

  /** Bring back what exportState kept (after the instance was restored and is watched again). */
  importState(
    inst: Instance,
    state: { view: HealthView | null; unhealthy: number | null } | null,
  ): void {
    if (!state) return;
    if (state.view) this.#last.set(inst, state.view);
    if (state.unhealthy !== null) this.#checkOn(inst, state.unhealthy);
  }

  #report(r: HealthReport): void {
    const inst = this.#watched.get(r.key);
    if (!inst) return;
    const label = instanceLabel(inst.job.name, inst.name);
    const before = this.#unhealthy.get(inst);
    if (r.ok) {
      this.#last.set(inst, { healthy: true, failures: 0, detail: r.detail, at: r.at });
      if (before !== undefined) {
        this.#unhealthy.delete(inst);
        this.log(`${label} is healthy again: ${r.detail}`);
      }
      return;
    }
    const failures = (before ?? 0) + r.consecutiveFailures;
    const declared = before !== undefined || r.unhealthy;
    // Below `retries` consecutive failures a job still counts as healthy.
    this.#last.set(inst, { healthy: !declared, failures, detail: r.detail, at: r.at });
    this.log(`${label} health check failed (${failures}): ${r.detail}`);
    if (!r.unhealthy) return;
    if (before !== undefined) {
      // Already announced: the monitor stopped after `retries` more failures; keep checking.
      this.#checkOn(inst, failures);
      return;
    }
    const reason = `${failures} failure${failures === 1 ? "" : "s"}: ${r.detail}`;
    this.log(`${label} is unhealthy: ${reason}`);
    this.sup.emit("unhealthy", [["JOB", inst.job.name], ["INSTANCE", inst.name], [
      "REASON",
      reason,
    ]]);
    if (inst.job.respawn) {
      this.#watched.delete(r.key);
      this.log(`${label} restarting (unhealthy)`);
      // As a respawn does: straight to stopping (a pre-stop would talk to the hung daemon), the
      // kill signal then SIGKILL after `kill timeout`, and start again.
      this.sup.input(inst, { type: "respawn" });
    } else {
      this.#checkOn(inst, failures);
    }
  }

  /** Keep checking an instance declared unhealthy (no respawn), from its next interval. */
  #checkOn(inst: Instance, failures: number): void {
    const health = inst.job.health;
    if (!health) return;
    this.#unhealthy.set(inst, failures);
    this.#monitor.watch(keyOf(inst), { ...health, grace: 0 }, this.#target(inst));
  }

  /**
   * Where the checks of an instance run. The memory limit covers the main process's group: for
   * `expect fork`/`daemon` the followed daemon is not the group leader (its group is the one
   * the spawned process or the forking intermediate made), so the group is read, not assumed.
   * An exec check runs as the user and group the main process runs as (`setuid`/`setgid`).
   * Both are read when a check runs, not when watching starts: a process just spawned may not
   * have called setsid() or dropped privileges yet.
   */
  #target(inst: Instance): CheckTarget {
    const pid = inst.st.pids.main!;
    const pgidOf = this.#pgidOf;
    const ownerOf = this.#ownerOf;
    const owner = () => {
      const o = ownerOf(pid);
      return o && (o.uid !== 0 || o.gid !== 0) ? o : null;
    };
    return {
      get pgid() {
        return pgidOf(pid);
      },
      env: { ...inst.env, UPSTART_JOB: inst.job.name, UPSTART_INSTANCE: inst.name },
      cwd: inst.job.chdir ?? "/",
      get uid() {
        return owner()?.uid;
      },
      get gid() {
        return owner()?.gid;
      },
    };
  }
}

function keyOf(inst: Instance): string {
  return `${inst.job.name}\0${inst.name}`;
}
