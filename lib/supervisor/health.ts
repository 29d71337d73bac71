/**
 * Health supervision glue: watches an instance with lib/health's monitor while it is `running`,
 * keeps the last result for `status`, and when the monitor declares it unhealthy logs why, emits
 * `unhealthy JOB=… INSTANCE=… REASON=…` and restarts it when the job has `respawn`.
 */

import { HealthMonitor, type HealthReport } from "../health/monitor.ts";
import type { HealthView } from "./status.ts";
import type { Instance, Supervisor } from "./supervisor.ts";
import { instanceLabel } from "./instance.ts";

export class HealthSupervision {
  readonly #monitor: HealthMonitor;
  readonly #watched = new Map<string, Instance>();
  readonly #last = new WeakMap<Instance, HealthView>();

  constructor(private readonly sup: Supervisor, private readonly log: (m: string) => void) {
    this.#monitor = new HealthMonitor({ onReport: (r) => this.#report(r) });
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
      this.#monitor.watch(key, health, {
        pgid: inst.st.pids.main!,
        env: { ...inst.env, UPSTART_JOB: inst.job.name, UPSTART_INSTANCE: inst.name },
        cwd: inst.job.chdir ?? "/",
      });
    } else if (!running && watched) {
      this.#watched.delete(key);
      this.#monitor.unwatch(key);
    }
  }

  view(inst: Instance): HealthView | null {
    return this.#last.get(inst) ?? null;
  }

  stopAll(): void {
    this.#monitor.unwatchAll();
    this.#watched.clear();
  }

  #report(r: HealthReport): void {
    const inst = this.#watched.get(r.key);
    if (!inst) return;
    this.#last.set(inst, {
      healthy: r.ok || (!r.unhealthy && r.consecutiveFailures < (inst.job.health?.retries ?? 1)),
      failures: r.consecutiveFailures,
      detail: r.detail,
      at: r.at,
    });
    if (!r.ok) {
      this.log(
        `${
          instanceLabel(inst.job.name, inst.name)
        } health check failed (${r.consecutiveFailures}): ${r.detail}`,
      );
    }
    if (!r.unhealthy) return;
    this.#last.set(inst, {
      healthy: false,
      failures: r.consecutiveFailures,
      detail: r.detail,
      at: r.at,
    });
    this.#watched.delete(r.key);
    const label = instanceLabel(inst.job.name, inst.name);
    const reason = `${r.consecutiveFailures} failures: ${r.detail}`;
    this.log(`${label} is unhealthy: ${reason}`);
    this.sup.emit("unhealthy", [["JOB", inst.job.name], ["INSTANCE", inst.name], [
      "REASON",
      reason,
    ]]);
    if (inst.job.respawn) {
      this.log(`${label} restarting (unhealthy)`);
      this.sup.call(() => this.sup.restartInstance(inst, null, null));
    }
  }
}

function keyOf(inst: Instance): string {
  return `${inst.job.name}\0${inst.name}`;
}
