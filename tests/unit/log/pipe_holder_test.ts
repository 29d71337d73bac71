/** When a new log pipe holder is started (lib/log/pipe_holder.ts holderDelay), with time as data. */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { holderDelay } from "../../../lib/log/pipe_holder.ts";

Deno.test("holder delay: 50 ms after the last change, never later than 1 s after the first", () => {
  const cases: [now: number, first: number, last: number, delay: number][] = [
    [50, 0, 0, 0], // one change, settled
    [20, 0, 0, 30], // one change, not settled yet
    [100, 0, 80, 30], // a later change: 50 ms after it
    [130, 0, 80, 0],
    [990, 0, 980, 10], // still changing near the cap: only until the cap
    [1000, 0, 999, 0], // changing all along: held at the cap
    [5000, 4990, 4990, 40],
  ];
  for (const [now, first, last, delay] of cases) {
    assertEquals(holderDelay(now, first, last), delay, `now ${now}, first ${first}, last ${last}`);
  }
});

Deno.test("holder delay: a start-up changing the pipes every 2 ms for 1.5 s starts two holders", () => {
  // The timer loop of PipeHolder, driven by hand: a change every 2 ms from 0 to 1500 ms.
  const starts: number[] = [];
  let first = -1, last = -1, due = -1;
  for (let now = 0; now <= 3000; now++) {
    if (now <= 1500 && now % 2 === 0) {
      last = now;
      if (due < 0) {
        first = now;
        due = now + 50;
      }
    }
    if (due === now) {
      const delay = holderDelay(now, first, last);
      if (delay > 0) {
        due = now + delay;
      } else {
        starts.push(now);
        due = -1;
      }
    }
  }
  assertEquals(starts, [1000, 1550]);
});
