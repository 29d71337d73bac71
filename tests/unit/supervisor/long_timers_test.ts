/** Unit tests of LongTimers: setTimeout for delays past its 2^31 - 1 ms limit. */

import assert from "node:assert/strict";
import { LongTimers, MAX_TIMEOUT_MS } from "../../../lib/supervisor/long_timers.ts";

const fired = (timers: LongTimers, ms: number) =>
  new Promise<number>((resolve) => {
    const t0 = performance.now();
    timers.set(ms, () => resolve(performance.now() - t0));
  });

Deno.test("LongTimers: a delay past setTimeout's limit does not fire at once", async () => {
  const timers = new LongTimers();
  let early = false;
  const id = timers.set(MAX_TIMEOUT_MS + 1000, () => early = true);
  // setTimeout itself fires a delay past 2^31 - 1 ms after ~1 ms: a 30 ms timer set later ends first.
  await fired(timers, 30);
  assert.deepEqual(early, false);
  timers.clear(id);
  assert.deepEqual(timers.size, 0);
});

Deno.test("LongTimers: a delay longer than one setTimeout is waited out in steps", async () => {
  const timers = new LongTimers(undefined, false, 20);
  const took = await fired(timers, 70);
  assert.ok(took >= 69, `fired after ${took} ms`);
  assert.deepEqual(timers.size, 0);
});

Deno.test("LongTimers: clear() stops a timer between its steps", async () => {
  const timers = new LongTimers(undefined, false, 10);
  let ran = false;
  const id = timers.set(50, () => ran = true);
  await fired(timers, 25); // two steps of the first timer have passed
  timers.clear(id);
  await fired(timers, 60);
  assert.deepEqual([ran, timers.size], [false, 0]);
});
