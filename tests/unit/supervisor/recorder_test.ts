/** The recorder: what it hands the state store (fake store, no files). */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Recorder } from "../../../lib/supervisor/recorder.ts";
import type { Changes } from "../../../lib/supervisor/state_store.ts";

function recorder(bootPending: { value: boolean }) {
  const writes: Changes[] = [];
  const r = new Recorder({
    store: { record: (c: Changes) => void writes.push(c) },
    now: () => 0,
    wallOffset: () => 0,
    processStart: (pid) => pid * 10,
    jobEnv: () => ({}),
    daemon: () => ({ pid: 1, start: 2, bootId: "b", bootPending: bootPending.value }),
  });
  return { r, writes };
}

Deno.test("Recorder writes bootPending into the daemon record while it is set", () => {
  const pending = { value: true };
  const { r, writes } = recorder(pending);
  r.recordAll([], []);
  r.flush();
  assertEquals(JSON.parse(writes[0]!.daemon!).bootPending, true);
  pending.value = false;
  r.recordAll([], []);
  r.flush();
  assertEquals(JSON.parse(writes[1]!.daemon!).bootPending, undefined);
});
