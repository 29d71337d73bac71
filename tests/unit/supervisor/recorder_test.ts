/** The recorder: what it hands the state store, and when (fake store, no files). */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Recorder } from "../../../lib/supervisor/recorder.ts";
import type { Changes } from "../../../lib/supervisor/state_store.ts";
import type { Instance } from "../../../lib/supervisor/ports.ts";

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

const inst = { job: { name: "web" }, name: "" } as unknown as Instance;

Deno.test("Recorder journals a process change at once, and the same pid of a slot only once", () => {
  const { r, writes } = recorder({ value: false });
  r.processChanged(inst, "main", 42);
  assertEquals(writes, [{
    processes: [{ key: "web\u0000", kind: "main", pid: 42, start: 420 }],
  }]);
  r.processChanged(inst, "main", 42); // the spawned input after the spawn: said already
  assertEquals(writes.length, 1);
  r.processChanged(inst, "main", null, 42);
  r.processChanged(inst, "main", 43, undefined);
  assertEquals(writes.slice(1).map((w) => [...w.processes!].map((p) => p.pid)), [[null], [43]]);
});

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
