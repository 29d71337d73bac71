/**
 * Deadlines with a hand-driven clock: a deadline fires once, at the first tick at or after it; a
 * cancelled one never fires; the timer runs only while something is pending; a burst of
 * connections answered at once costs a single tick.
 */

import { deepEqual, equal } from "node:assert/strict";
import { Deadlines, TICK_MS, type TickClock } from "../../../lib/control/deadlines.ts";

class FakeClock implements TickClock {
  t = 0;
  armed: { at: number; fn: () => void }[] = [];
  now(): number {
    return this.t;
  }
  set(ms: number, fn: () => void): void {
    this.armed.push({ at: this.t + ms, fn });
  }
  /** Run time forward to `t`, firing timers in order. */
  advance(to: number): void {
    for (;;) {
      this.armed.sort((a, b) => a.at - b.at);
      const next = this.armed[0];
      if (!next || next.at > to) break;
      this.armed.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = to;
  }
}

Deno.test("deadlines: one fires once, no earlier than asked and at most a tick late", () => {
  const clock = new FakeClock();
  const d = new Deadlines(clock);
  const fired: number[] = [];
  d.add(1200, () => fired.push(clock.t));
  clock.advance(1199);
  deepEqual(fired, []);
  clock.advance(10_000);
  equal(fired.length, 1);
  equal(fired[0]! >= 1200 && fired[0]! <= 1200 + TICK_MS, true, `fired at ${fired[0]}`);
  equal(clock.armed.length, 0, "no timer once nothing is pending");
});

Deno.test("deadlines: a cancelled one never fires, and the tick stops after it", () => {
  const clock = new FakeClock();
  const d = new Deadlines(clock);
  let fired = 0;
  const id = d.add(5000, () => fired++);
  d.cancel(id);
  equal(d.size, 0);
  clock.advance(60_000);
  equal(fired, 0);
  equal(clock.armed.length, 0);
});

Deno.test("deadlines: a burst of requests answered at once costs one tick in all", () => {
  const clock = new FakeClock();
  const d = new Deadlines(clock);
  let ticks = 0;
  const realSet = clock.set.bind(clock);
  clock.set = (ms, fn) => {
    ticks++;
    realSet(ms, fn);
  };
  for (let i = 0; i < 50; i++) {
    clock.t += 3; // each answered within milliseconds: read, then write deadline, both cancelled
    d.cancel(d.add(5000, () => {}));
    d.cancel(d.add(10_000, () => {}));
  }
  clock.advance(120_000);
  equal(ticks, 1);
});

Deno.test("deadlines: a deadline that adds another (the waiting line) repeats until cancelled", () => {
  const clock = new FakeClock();
  const d = new Deadlines(clock);
  const at: number[] = [];
  let id = 0;
  const again = () => {
    at.push(clock.t);
    id = d.add(5000, again);
  };
  id = d.add(5000, again);
  clock.advance(16_000);
  equal(at.length, 3);
  d.cancel(id);
  clock.advance(60_000);
  equal(at.length, 3);
  equal(clock.armed.length, 0);
});

Deno.test("deadlines: one that throws does not keep the others from firing", () => {
  const clock = new FakeClock();
  const d = new Deadlines(clock);
  let fired = 0;
  d.add(100, () => {
    throw new Error("boom");
  });
  d.add(100, () => fired++);
  clock.advance(1000);
  equal(fired, 1);
});
