import assert from "node:assert/strict";
import { nextTask } from "../../lib/next_task.ts";

Deno.test("nextTask() runs each function once, in order, after the current task", async () => {
  const ran: number[] = [];
  const done = Promise.withResolvers<void>();
  nextTask(() => ran.push(1));
  nextTask(() => ran.push(2));
  nextTask(() => {
    ran.push(3);
    // One set from inside a run goes to a hop of its own.
    nextTask(() => {
      ran.push(4);
      done.resolve();
    });
  });
  assert.deepEqual(ran, []);
  await Promise.resolve(); // microtasks are not enough
  assert.deepEqual(ran, []);
  await done.promise;
  assert.deepEqual(ran, [1, 2, 3, 4]);
  // The test's resource and op sanitizers check that no channel is left open.
});

Deno.test("nextTask() lets due I/O in between: a chain of hops does not hold the loop", async () => {
  let hops = 0;
  let stop = false;
  const hop = () => {
    hops++;
    if (!stop) nextTask(hop);
  };
  nextTask(hop);
  // A file read resolves while the chain goes on.
  await Deno.readFile(new URL(import.meta.url));
  stop = true;
  await new Promise<void>((r) => nextTask(r));
  assert.ok(hops >= 1);
});
