/**
 * IdleGc: one compacting collection after a burst has been quiet for IDLE_GC_MS, none while the
 * burst goes on, none without activity, and the real V8 `gc` accepts the options it passes.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { IDLE_GC_MS, IDLE_GC_OPTIONS, IdleGc } from "../../../lib/process/idle_gc.ts";

function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) return resolve();
      if (performance.now() > end) return reject(new Error("condition not met in time"));
      setTimeout(tick, 10);
    };
    tick();
  });
}

Deno.test("idle gc: one last-resort collection once a burst has been quiet", async () => {
  const calls: unknown[] = [];
  const idle = new IdleGc((options) => calls.push(options));
  const start = performance.now();
  // A burst that goes on for longer than IDLE_GC_MS: no collection while it lasts.
  while (performance.now() - start < IDLE_GC_MS * 1.5) {
    idle.activity();
    equal(calls.length, 0);
    await new Promise((r) => setTimeout(r, IDLE_GC_MS / 5));
  }
  await until(() => calls.length > 0);
  ok(performance.now() - start >= IDLE_GC_MS * 2 - 20, "collected only after the quiet time");
  deepEqual(calls, [IDLE_GC_OPTIONS]);
  await new Promise((r) => setTimeout(r, IDLE_GC_MS * 2));
  equal(calls.length, 1, "one collection per burst, nothing when nothing happens");
});

Deno.test("idle gc: does nothing without V8's gc", () => {
  const idle = new IdleGc(undefined);
  idle.activity(); // must not arm a timer (the test's sanitizer would catch a leaked one)
});

Deno.test("idle gc: its options make V8 give back the heap pages a plain full collection keeps", () => {
  // V8 ignores options it does not know, so check the effect: garbage freed, then a regular full
  // collection, then ours; ours must leave the heap much smaller.
  const script = `
    let junk = [];
    for (let i = 0; i < 300000; i++) junk.push({ i, s: "y" + i });
    const keep = junk.filter((_, i) => i % 50 === 0);
    junk = [];
    gc({ type: "major", execution: "sync", flavor: "regular" });
    const regular = Deno.memoryUsage().heapTotal;
    gc(${JSON.stringify(IDLE_GC_OPTIONS)});
    console.log(JSON.stringify({ regular, ours: Deno.memoryUsage().heapTotal, kept: keep.length }));
  `;
  const result = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    env: { DENO_V8_FLAGS: "--expose-gc" },
  }).outputSync();
  equal(new TextDecoder().decode(result.stderr), "");
  const { regular, ours, kept } = JSON.parse(new TextDecoder().decode(result.stdout));
  equal(kept, 6000);
  ok(ours < regular / 2, `heap after ours ${ours} B, after a regular full collection ${regular} B`);
});
