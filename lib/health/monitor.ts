/**
 * Schedules the health checks of running job instances. The edge between the daemon and
 * check.ts: it owns one timer per watched instance (no polling loop) behind the injected
 * `Timers` port, so tests drive it with a fake clock, and it reports every result through
 * `onReport`; it never touches job state itself (the daemon decides what an unhealthy report
 * means).
 *
 * Schedule of one watched key:
 * - the first tick comes `grace` seconds after `watch`, or `interval` seconds when grace is 0
 *   (a daemon just started is rarely ready at once);
 * - on a tick the memory limit is measured first (synchronously, from a /proc scan shared with
 *   the other instances for up to 1 s: see memory.ts), then every check runs in
 *   parallel, each bounded by `timeout`; the tick passes when all of them pass;
 * - the next tick is armed only when the previous one has finished, `interval` seconds after the
 *   previous tick *started* (at once if the checks took longer), so two checks of one key never
 *   overlap, even across unwatch/watch of the same key;
 * - intervals below 100 ms count as 100 ms (`health interval 0` must not become a busy loop);
 * - after `retries` consecutive failed ticks (at least 1) the report carries `unhealthy: true`,
 *   exactly once, and the key is no longer checked until `watch` is called again.
 */

import type { Health } from "../job/model.ts";
import {
  checkMemory as realCheckMemory,
  type CheckResult,
  type CheckTarget,
  runCheck as realRunCheck,
} from "./check.ts";
import { GroupRssSampler } from "./memory.ts";

export interface HealthReport {
  /** The key given to `watch` (an instance key). */
  readonly key: string;
  readonly ok: boolean;
  /** Failing results joined by `; ` when not ok, else every result joined by `; `. */
  readonly detail: string;
  /** `timers.now()` when the tick finished (ms). */
  readonly at: number;
  readonly consecutiveFailures: number;
  /** True once per watch, on the report that reached `retries` consecutive failures. */
  readonly unhealthy: boolean;
}

/** The clock and timer port; the real one wraps `setTimeout`/`clearTimeout`/`Date.now`. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): number;
  clearTimeout(id: number): void;
  now(): number;
}

/** What a tick runs; injectable so unit tests need no processes. Defaults to check.ts. */
export interface Checkers {
  runCheck: typeof realRunCheck;
  checkMemory: (limitBytes: number, target: CheckTarget) => CheckResult;
}

/** Floor of the time between two ticks of one key, ms. */
const MIN_INTERVAL_MS = 100;

export const REAL_TIMERS: Timers = {
  setTimeout: (fn, ms) => Number(setTimeout(fn, ms)),
  clearTimeout: (id) => clearTimeout(id),
  now: () => Date.now(),
};

interface Watch {
  readonly health: Health;
  readonly target: CheckTarget;
  timer: number | null;
  failures: number;
}

export class HealthMonitor {
  readonly #onReport: (r: HealthReport) => void;
  readonly #timers: Timers;
  readonly #checkers: Checkers;
  readonly #watches = new Map<string, Watch>();
  /** The tick in flight per key, kept across unwatch/watch so a new watch waits for it. */
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(
    opts: { onReport: (r: HealthReport) => void; timers?: Timers; checkers?: Checkers },
  ) {
    this.#onReport = opts.onReport;
    this.#timers = opts.timers ?? REAL_TIMERS;
    // One /proc scan per second at most, shared by the memory checks of every instance.
    const sampler = new GroupRssSampler(1000, () => this.#timers.now());
    this.#checkers = opts.checkers ?? {
      runCheck: realRunCheck,
      checkMemory: (limit, target) =>
        realCheckMemory(limit, target, (pgid) => sampler.groupRss(pgid)),
    };
  }

  /**
   * Start checking `key` (an instance) with `health` after its grace period; every `interval`;
   * each check bounded by `timeout`; memory checked on the same tick. After `retries` consecutive
   * failures, report unhealthy: true ONCE and stop checking that key (the daemon restarts the job
   * and calls watch again when it is running). Reports every result (so status can show the last
   * one). Never overlaps two checks of one key. Watching a watched key starts it afresh.
   */
  watch(key: string, health: Health, target: CheckTarget): void {
    this.unwatch(key);
    if (health.checks.length === 0 && health.memory === null) return;
    const w: Watch = { health, target, timer: null, failures: 0 };
    this.#watches.set(key, w);
    this.#arm(key, w, 1000 * (health.grace > 0 ? health.grace : health.interval));
  }

  /** Stop checking `key`; a check in flight finishes on its own but is not reported. */
  unwatch(key: string): void {
    const w = this.#watches.get(key);
    if (!w) return;
    if (w.timer !== null) this.#timers.clearTimeout(w.timer);
    this.#watches.delete(key);
  }

  unwatchAll(): void {
    for (const key of [...this.#watches.keys()]) this.unwatch(key);
  }

  /** Keys being checked (for status and tests). */
  watching(): string[] {
    return [...this.#watches.keys()];
  }

  #arm(key: string, w: Watch, ms: number): void {
    w.timer = this.#timers.setTimeout(() => {
      w.timer = null;
      this.#tick(key, w);
    }, Math.max(0, ms));
  }

  #tick(key: string, w: Watch): void {
    const previous = this.#inFlight.get(key);
    const run = (previous ?? Promise.resolve()).then(() => this.#runTick(key, w));
    const done = run.catch(() => {}).finally(() => {
      if (this.#inFlight.get(key) === done) this.#inFlight.delete(key);
    });
    this.#inFlight.set(key, done);
  }

  async #runTick(key: string, w: Watch): Promise<void> {
    if (this.#watches.get(key) !== w) return; // unwatched while waiting for an older tick
    const started = this.#timers.now();
    const { health, target } = w;
    const results: CheckResult[] = [];
    if (health.memory !== null) results.push(this.#checkers.checkMemory(health.memory, target));
    results.push(
      ...await Promise.all(
        health.checks.map((c) =>
          this.#checkers.runCheck(c, target, health.timeout).catch((e: unknown) => ({
            ok: false,
            detail: `check failed: ${e instanceof Error ? e.message : String(e)}`,
          }))
        ),
      ),
    );
    if (this.#watches.get(key) !== w) return; // unwatched (or re-watched) meanwhile

    const ok = results.every((r) => r.ok);
    w.failures = ok ? 0 : w.failures + 1;
    const unhealthy = w.failures >= Math.max(1, health.retries);
    const shown = ok ? results : results.filter((r) => !r.ok);
    const report: HealthReport = {
      key,
      ok,
      detail: shown.map((r) => r.detail).join("; "),
      at: this.#timers.now(),
      consecutiveFailures: w.failures,
      unhealthy,
    };
    if (unhealthy) this.#watches.delete(key);
    try {
      this.#onReport(report);
    } finally {
      // onReport may have unwatched or re-watched the key; only arm our own watch. A throwing
      // onReport (a daemon bug) must not silently end the checks of this key.
      if (!unhealthy && this.#watches.get(key) === w && w.timer === null) {
        const elapsed = this.#timers.now() - started;
        this.#arm(key, w, Math.max(MIN_INTERVAL_MS, health.interval * 1000) - elapsed);
      }
    }
  }
}
