/**
 * HealthMonitor with a fake clock and fake checkers: grace, interval, retries (one unhealthy
 * report), no overlapping checks, unwatch. No processes, no sleeps.
 */

import { deepStrictEqual, equal, ok } from "node:assert/strict";
import type { Health, HealthCheck } from "../../../lib/job/model.ts";
import type { CheckResult, CheckTarget } from "../../../lib/health/check.ts";
import { HealthMonitor, type HealthReport, type Timers } from "../../../lib/health/monitor.ts";

class FakeTimers implements Timers {
  time = 1_000_000;
  #next = 1;
  readonly pending = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): number {
    const id = this.#next++;
    this.pending.set(id, { at: this.time + ms, fn });
    return id;
  }
  clearTimeout(id: number): void {
    this.pending.delete(id);
  }
  now(): number {
    return this.time;
  }
  /** Move the clock forward `ms`, firing due timers in order and letting their promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    while (true) {
      await settle();
      const due = [...this.pending.entries()].filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.time = Math.max(this.time, due[1].at);
      due[1].fn();
    }
    this.time = end;
    await settle();
  }
}

/** Let every queued promise callback run (several hops deep). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

interface Deferred {
  resolve(r: CheckResult): void;
}

/** Checkers whose results come from `script` (one per call), or stay pending when `hang`. */
class FakeCheckers {
  calls: { check: HealthCheck; timeout: number; at: number }[] = [];
  memoryCalls: { limit: number; target: CheckTarget }[] = [];
  script: CheckResult[] = [];
  fallback: CheckResult = { ok: true, detail: "HTTP 200" };
  memory: CheckResult = { ok: true, detail: "memory 10 MiB <= 512 MiB" };
  hang = false;
  waiting: Deferred[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(private readonly timers: FakeTimers) {}
  runCheck = (check: HealthCheck, _t: CheckTarget, timeout: number): Promise<CheckResult> => {
    this.calls.push({ check, timeout, at: this.timers.now() });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const done = (r: CheckResult) => {
      this.inFlight--;
      return r;
    };
    if (this.hang) {
      return new Promise((resolve) => this.waiting.push({ resolve: (r) => resolve(done(r)) }));
    }
    return Promise.resolve(done(this.script.shift() ?? this.fallback));
  };
  checkMemory = (limit: number, target: CheckTarget): CheckResult => {
    this.memoryCalls.push({ limit, target });
    return this.memory;
  };
}

const HTTP: HealthCheck = { type: "http", url: "http://127.0.0.1:8080/healthz" };
const TARGET: CheckTarget = { pgid: 4242, env: {}, cwd: "/" };
const FAIL: CheckResult = { ok: false, detail: "HTTP 503" };
const PASS: CheckResult = { ok: true, detail: "HTTP 200" };

function health(over: Partial<Health> = {}): Health {
  return { checks: [HTTP], interval: 10, timeout: 3, retries: 3, grace: 0, memory: null, ...over };
}

function setup() {
  const timers = new FakeTimers();
  const checkers = new FakeCheckers(timers);
  const reports: HealthReport[] = [];
  const monitor = new HealthMonitor({ onReport: (r) => reports.push(r), timers, checkers });
  return { timers, checkers, reports, monitor };
}

Deno.test("watch() runs the first check when the grace period ends, not before", async () => {
  const { timers, checkers, reports, monitor } = setup();
  monitor.watch("web", health({ grace: 30 }), TARGET);
  await timers.advance(29_999);
  equal(checkers.calls.length, 0);
  await timers.advance(1);
  equal(checkers.calls.length, 1);
  equal(reports.length, 1);
  deepStrictEqual(reports[0], {
    key: "web",
    ok: true,
    detail: "HTTP 200",
    at: timers.now(),
    consecutiveFailures: 0,
    unhealthy: false,
  });
});

Deno.test("watch() without grace waits one interval for the first check", async () => {
  const { timers, checkers, monitor } = setup();
  monitor.watch("web", health({ interval: 5 }), TARGET);
  await timers.advance(4_999);
  equal(checkers.calls.length, 0);
  await timers.advance(1);
  equal(checkers.calls.length, 1);
});

Deno.test("checks repeat every interval and get the health timeout", async () => {
  const { timers, checkers, monitor } = setup();
  monitor.watch("web", health({ grace: 30, interval: 10, timeout: 2.5 }), TARGET);
  await timers.advance(60_000);
  deepStrictEqual(checkers.calls.map((c) => c.at - 1_000_000), [30_000, 40_000, 50_000, 60_000]);
  ok(checkers.calls.every((c) => c.timeout === 2.5 && c.check === HTTP));
});

Deno.test("retries consecutive failures give exactly one unhealthy report, then checks stop", async () => {
  const { timers, checkers, reports, monitor } = setup();
  checkers.fallback = FAIL;
  monitor.watch("web", health({ retries: 3 }), TARGET);
  await timers.advance(300_000);
  equal(checkers.calls.length, 3);
  deepStrictEqual(
    reports.map((r) => [r.ok, r.consecutiveFailures, r.unhealthy, r.detail]),
    [[false, 1, false, "HTTP 503"], [false, 2, false, "HTTP 503"], [false, 3, true, "HTTP 503"]],
  );
  deepStrictEqual(monitor.watching(), []);
  equal(timers.pending.size, 0);
});

Deno.test("a passing check resets the count of consecutive failures", async () => {
  const { timers, checkers, reports, monitor } = setup();
  checkers.script = [FAIL, FAIL, PASS, FAIL, FAIL, PASS];
  monitor.watch("web", health({ retries: 3 }), TARGET);
  await timers.advance(60_000);
  deepStrictEqual(reports.map((r) => r.consecutiveFailures), [1, 2, 0, 1, 2, 0]);
  ok(reports.every((r) => !r.unhealthy));
});

Deno.test("retries 0 counts as 1: the first failure is unhealthy", async () => {
  const { timers, checkers, reports, monitor } = setup();
  checkers.fallback = FAIL;
  monitor.watch("web", health({ retries: 0 }), TARGET);
  await timers.advance(100_000);
  deepStrictEqual(reports.map((r) => r.unhealthy), [true]);
});

Deno.test("watch() again after unhealthy starts a fresh count", async () => {
  const { timers, checkers, reports, monitor } = setup();
  checkers.fallback = FAIL;
  monitor.watch("web", health({ retries: 2 }), TARGET);
  await timers.advance(20_000);
  deepStrictEqual(reports.map((r) => r.unhealthy), [false, true]);
  monitor.watch("web", health({ retries: 2 }), TARGET);
  await timers.advance(20_000);
  deepStrictEqual(reports.map((r) => r.consecutiveFailures), [1, 2, 1, 2]);
  deepStrictEqual(reports.map((r) => r.unhealthy), [false, true, false, true]);
});

Deno.test("a hung check is never overlapped by the next one", async () => {
  const { timers, checkers, reports, monitor } = setup();
  checkers.hang = true;
  monitor.watch("web", health({ interval: 10 }), TARGET);
  await timers.advance(100_000); // ten intervals with the first check still running
  equal(checkers.calls.length, 1);
  equal(reports.length, 0);
  checkers.hang = false;
  checkers.waiting[0]!.resolve(FAIL);
  await timers.advance(0); // it took longer than the interval: the next check starts at once
  equal(checkers.calls.length, 2);
  equal(checkers.maxInFlight, 1);
  deepStrictEqual(reports.map((r) => r.consecutiveFailures), [1, 0]);
});

Deno.test("the next check is one interval after the previous one started", async () => {
  const { timers, checkers, monitor } = setup();
  checkers.hang = true;
  monitor.watch("web", health({ interval: 10 }), TARGET);
  await timers.advance(10_000);
  await timers.advance(3_000); // the check takes 3 s
  checkers.hang = false;
  checkers.waiting[0]!.resolve(PASS);
  await timers.advance(6_999);
  equal(checkers.calls.length, 1);
  await timers.advance(1);
  equal(checkers.calls.length, 2);
});

Deno.test("unwatch() cancels the timer and drops the result of a check in flight", async () => {
  const { timers, checkers, reports, monitor } = setup();
  monitor.watch("web", health(), TARGET);
  monitor.watch("db", health(), TARGET);
  monitor.unwatch("db");
  await timers.advance(10_000);
  deepStrictEqual(reports.map((r) => r.key), ["web"]);
  checkers.hang = true;
  await timers.advance(10_000);
  equal(checkers.calls.length, 2);
  monitor.unwatch("web");
  checkers.waiting[0]!.resolve(FAIL);
  await timers.advance(100_000);
  equal(reports.length, 1);
  equal(checkers.calls.length, 2);
  equal(timers.pending.size, 0);
});

Deno.test("a new watch of a key waits for the old watch's check still in flight", async () => {
  const { timers, checkers, reports, monitor } = setup();
  checkers.hang = true;
  monitor.watch("web", health({ interval: 1 }), TARGET);
  await timers.advance(1_000);
  equal(checkers.calls.length, 1);
  monitor.watch("web", health({ interval: 1 }), TARGET); // restart: same key, fresh watch
  await timers.advance(5_000);
  equal(checkers.calls.length, 1, "the new watch must not start a second check");
  checkers.hang = false;
  checkers.waiting[0]!.resolve(FAIL);
  await timers.advance(0);
  equal(checkers.calls.length, 2);
  equal(checkers.maxInFlight, 1);
  deepStrictEqual(reports.map((r) => [r.ok, r.consecutiveFailures]), [[true, 0]]);
});

Deno.test("an interval of 0 is run as 100 ms, not as a busy loop", async () => {
  const { timers, checkers, monitor } = setup();
  monitor.watch("web", health({ interval: 0, grace: 1 }), TARGET);
  await timers.advance(1_000);
  equal(checkers.calls.length, 1);
  await timers.advance(1_000);
  equal(checkers.calls.length, 11);
});

Deno.test("unwatchAll() stops every key", async () => {
  const { timers, checkers, monitor } = setup();
  for (const k of ["a", "b", "c"]) monitor.watch(k, health(), TARGET);
  monitor.unwatchAll();
  await timers.advance(100_000);
  equal(checkers.calls.length, 0);
  equal(timers.pending.size, 0);
});

Deno.test("memory is checked on the same tick and its failure is reported", async () => {
  const { timers, checkers, reports, monitor } = setup();
  checkers.memory = { ok: false, detail: "memory 612 MiB > 512 MiB" };
  monitor.watch("web", health({ memory: 512 * 1024 * 1024, retries: 1 }), TARGET);
  await timers.advance(10_000);
  deepStrictEqual(checkers.memoryCalls, [{ limit: 512 * 1024 * 1024, target: TARGET }]);
  equal(checkers.calls.length, 1);
  deepStrictEqual(reports.map((r) => [r.ok, r.unhealthy, r.detail]), [
    [false, true, "memory 612 MiB > 512 MiB"],
  ]);
});

Deno.test("a report shows only the failing checks, or every result when all pass", async () => {
  const { timers, checkers, reports, monitor } = setup();
  const tcp: HealthCheck = { type: "tcp", host: "127.0.0.1", port: 6379 };
  checkers.script = [PASS, { ok: false, detail: "connect ECONNREFUSED 127.0.0.1:6379" }];
  monitor.watch("web", health({ checks: [HTTP, tcp], memory: 1 << 30 }), TARGET);
  await timers.advance(20_000);
  deepStrictEqual(reports.map((r) => r.detail), [
    "connect ECONNREFUSED 127.0.0.1:6379",
    "memory 10 MiB <= 512 MiB; HTTP 200; HTTP 200",
  ]);
});

Deno.test("a memory-only health block still ticks; an empty one arms nothing", async () => {
  const { timers, checkers, reports, monitor } = setup();
  monitor.watch("mem", health({ checks: [], memory: 1 << 20 }), TARGET);
  monitor.watch("none", health({ checks: [], memory: null }), TARGET);
  deepStrictEqual(monitor.watching(), ["mem"]);
  await timers.advance(10_000);
  equal(checkers.memoryCalls.length, 1);
  deepStrictEqual(reports.map((r) => r.key), ["mem"]);
});

Deno.test("onReport may unwatch the key; no further check is armed", async () => {
  const timers = new FakeTimers();
  const checkers = new FakeCheckers(timers);
  const reports: HealthReport[] = [];
  const monitor: HealthMonitor = new HealthMonitor({
    onReport: (r) => {
      reports.push(r);
      monitor.unwatch(r.key);
    },
    timers,
    checkers,
  });
  monitor.watch("web", health(), TARGET);
  await timers.advance(100_000);
  equal(reports.length, 1);
  equal(timers.pending.size, 0);
});

Deno.test("an onReport that throws does not end the checks of the key", async () => {
  const timers = new FakeTimers();
  const checkers = new FakeCheckers(timers);
  let calls = 0;
  const monitor = new HealthMonitor({
    onReport: () => {
      calls++;
      throw new Error("daemon bug");
    },
    timers,
    checkers,
  });
  monitor.watch("web", health(), TARGET);
  await timers.advance(30_000);
  equal(calls, 3);
});

Deno.test("a checker that rejects counts as a failed check, not a crash", async () => {
  const { timers, checkers, reports, monitor } = setup();
  checkers.runCheck = () => Promise.reject(new Error("boom"));
  monitor.watch("web", health(), TARGET);
  await timers.advance(10_000);
  deepStrictEqual(reports.map((r) => [r.ok, r.detail]), [[false, "check failed: boom"]]);
});
