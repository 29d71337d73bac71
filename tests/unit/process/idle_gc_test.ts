/**
 * IdleGc: one collection after a burst has been quiet for IDLE_GC_MS (the first, the start-up's,
 * for STARTUP_QUIET_MS), none while the burst goes on, none without activity; a compacting one
 * first and whenever the heap has grown since, a young-generation one otherwise; and V8 does with
 * its options what they say.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import {
  COMPACT_AFTER_GROWTH,
  COMPACTING_GC,
  IDLE_GC_MS,
  IdleGc,
  LATE_STEP_MS,
  STARTUP_QUIET_MS,
  YOUNG_GC,
} from "../../../lib/process/idle_gc.ts";

/** A fake clock and fake timers: `advance` runs every timer due, in order, as time goes by. */
function fakeTime() {
  const t = {
    clock: 1000,
    timers: [] as { at: number; fn: () => void }[],
    set: (fn: () => void, ms: number) => t.timers.push({ at: t.clock + ms, fn }),
    now: () => t.clock,
    advance(ms: number) {
      const end = t.clock + ms;
      for (;;) {
        t.timers.sort((x, y) => x.at - y.at);
        if (!t.timers.length || t.timers[0]!.at > end) break;
        const next = t.timers.shift()!;
        t.clock = next.at;
        next.fn();
      }
      t.clock = end;
    },
  };
  return t;
}

Deno.test("idle gc: one collection once a burst has been quiet; the start-up's sooner", () => {
  const calls: unknown[] = [];
  const time = fakeTime();
  const idle = new IdleGc(
    (options) => calls.push(options),
    () => 5 << 20,
    time.set,
    () => null,
    () => {},
    time.now,
  );
  /** Activity every `every` ms for longer than IDLE_GC_MS: no collection while it lasts. */
  const burst = (every: number, collected: number) => {
    const start = time.clock;
    while (time.clock - start < IDLE_GC_MS * 1.5) {
      idle.activity();
      equal(calls.length, collected);
      time.advance(every);
    }
    return time.clock - every; // the last activity
  };
  // The start-up (no collection yet): collected once quiet for STARTUP_QUIET_MS.
  let last = burst(STARTUP_QUIET_MS / 2, 0);
  time.advance(last + STARTUP_QUIET_MS - 1 - time.clock);
  equal(calls.length, 0);
  time.advance(1);
  deepEqual(calls.slice(), [COMPACTING_GC]); // (a copy: deepEqual would narrow calls' type)
  // Any later burst, even with pauses of STARTUP_QUIET_MS: once quiet for IDLE_GC_MS.
  last = burst(STARTUP_QUIET_MS * 1.5, 1);
  time.advance(last + IDLE_GC_MS - 1 - time.clock);
  equal(calls.length, 1);
  time.advance(1);
  deepEqual(calls.slice(), [COMPACTING_GC, YOUNG_GC]);
  time.advance(60_000);
  equal(calls.length, 2, "one collection per burst, nothing when nothing happens");
});

Deno.test("idle gc: compacting first and after the heap grew, plain otherwise; malloc trimmed after a plain one, and LATE_STEP_MS after a compacting one, the program pages dropped then", () => {
  const calls: unknown[] = [];
  let heap = 8 << 20;
  const later: [() => void, number][] = [];
  const idle = new IdleGc(
    (options) => {
      calls.push(options);
      if (options === COMPACTING_GC) heap -= 2 << 20; // compaction gives pages back
    },
    () => heap,
    (fn, ms) => later.push([fn, ms]),
    () => {
      calls.push("read mappings"); // at the collection: the pages go at the late step
      return () => (calls.push("drop pages"), 0);
    },
    () => calls.push("trim"),
    () => 1e9, // a clock long past the last activity (none): every quiet wait is over at once
  );
  idle.collect(); // after start-up
  deepEqual(calls.slice(), [COMPACTING_GC, "read mappings"]); // (a copy: deepEqual would narrow)
  deepEqual(later.map(([, ms]) => ms), [LATE_STEP_MS]);
  later.shift()![0]();
  deepEqual(calls, [COMPACTING_GC, "read mappings", "trim", "drop pages"]);
  calls.length = 0;
  idle.collect(); // a status query: nothing grew
  heap += COMPACT_AFTER_GROWTH - 1;
  idle.collect();
  deepEqual(calls, [YOUNG_GC, "trim", YOUNG_GC, "trim"]);
  equal(later.length, 0, "no late step after a young collection");
  heap += 1; // a crash storm grew the heap by COMPACT_AFTER_GROWTH in all
  idle.collect();
  deepEqual(calls.slice(4), [COMPACTING_GC, "read mappings"]);
  equal(later.length, 1);
  idle.collect();
  deepEqual(calls.slice(6), [YOUNG_GC, "trim"]);
  heap += COMPACT_AFTER_GROWTH;
  idle.collect(); // compacting again while the late step waits: still one late step
  equal(later.length, 1);
  later.shift()![0]();
  deepEqual(calls.slice(8), [COMPACTING_GC, "trim", "drop pages"]);
});

Deno.test("idle gc: the late step waits until the daemon has been quiet for LATE_STEP_MS", () => {
  const time = fakeTime();
  const advance = (ms: number) => time.advance(ms);
  const calls: unknown[] = [];
  let lastActivity = time.clock;
  let quietAtDrop = -1;
  const idle = new IdleGc(
    (options) => calls.push(options),
    () => 5 << 20,
    time.set,
    () => () => {
      calls.push("drop pages");
      quietAtDrop = time.clock - lastActivity;
      return 0;
    },
    () => calls.push("trim"),
    time.now,
  );
  idle.collect();
  deepEqual(calls.slice(), [COMPACTING_GC]); // (a copy: deepEqual would narrow calls' type)
  // Busy again at once, for longer than LATE_STEP_MS: the late step waits for a quiet moment.
  for (let t = 0; t < LATE_STEP_MS * 2; t += LATE_STEP_MS / 6) {
    idle.activity();
    lastActivity = time.clock;
    advance(LATE_STEP_MS / 6);
  }
  equal(calls.length, 1, "nothing while the daemon is busy");
  advance(LATE_STEP_MS);
  ok(quietAtDrop >= LATE_STEP_MS, `dropped after ${quietAtDrop} ms of quiet`);
  deepEqual(calls.slice(1, 3), ["trim", "drop pages"]);
  // Then the idle collection of that burst (nothing grew: a young one), and nothing else.
  advance(IDLE_GC_MS);
  deepEqual(calls.slice(3), [YOUNG_GC, "trim"]);
  advance(60_000);
  equal(calls.length, 5);
  equal(time.timers.length, 0);
});

Deno.test("idle gc: does nothing without V8's gc, not even a timer", () => {
  let timers = 0;
  const idle = new IdleGc(undefined, () => 0, () => timers++);
  equal(idle.enabled, false); // what the daemon says in its log at start
  idle.activity();
  idle.collect();
  equal(timers, 0);
  // The same with V8's gc arms one timer for any number of activities.
  const withGc = new IdleGc(() => {}, () => 0, () => timers++);
  equal(withGc.enabled, true);
  withGc.activity();
  withGc.activity();
  equal(timers, 1);
});

Deno.test("idle gc: V8 collects young garbage only with YOUNG_GC, all and compacted with COMPACTING_GC", () => {
  // V8 ignores options it does not know (and takes a lone non-object for "minor"), so check the
  // effects: old garbage and young garbage, then YOUNG_GC, then COMPACTING_GC.
  const script = `
    let old = [];
    for (let i = 0; i < 300000; i++) old.push({ i, s: "y" + i });
    gc(${JSON.stringify(COMPACTING_GC)}); // all of it in the old generation now
    const keep = old.filter((_, i) => i % 50 === 0);
    old = [];
    let young = [];
    for (let i = 0; i < 5000; i++) young.push({ i });
    const before = Deno.memoryUsage().heapUsed;
    young = [];
    gc(${JSON.stringify(YOUNG_GC)});
    const afterYoung = Deno.memoryUsage();
    gc(${JSON.stringify(COMPACTING_GC)});
    const compacted = Deno.memoryUsage();
    console.log(JSON.stringify({ before, afterYoung, compacted, kept: keep.length }));
  `;
  const result = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    env: { DENO_V8_FLAGS: "--expose-gc" },
  }).outputSync();
  equal(new TextDecoder().decode(result.stderr), "");
  const { before, afterYoung, compacted, kept } = JSON.parse(
    new TextDecoder().decode(result.stdout),
  );
  equal(kept, 6000);
  const msg = `in use: ${before} B, after YOUNG_GC ${afterYoung.heapUsed} B, ` +
    `after COMPACTING_GC ${compacted.heapUsed} B`;
  ok(afterYoung.heapUsed < before, msg); // the young garbage went
  ok(afterYoung.heapUsed > 2 * compacted.heapUsed, msg); // the old garbage stayed
  ok(
    compacted.heapTotal < afterYoung.heapTotal / 2,
    `heap after COMPACTING_GC ${compacted.heapTotal} B, after YOUNG_GC ${afterYoung.heapTotal} B`,
  );
});
