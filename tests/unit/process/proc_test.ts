/** Unit tests of the pure parts of the /proc and wait-status readers. */

import assert from "node:assert/strict";
import { parseProcStat } from "../../../lib/process/proc.ts";
import { decodeWaitStatus } from "../../../lib/process/ffi.ts";

Deno.test("parseProcStat() reads fields after a comm holding spaces and parentheses", () => {
  const text =
    "42 (a (b) c) S 1 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 100 1000 77 18446744073709551615";
  assert.deepEqual(parseProcStat(text), {
    pid: 42,
    comm: "a (b) c",
    state: "S",
    ppid: 1,
    pgrp: 42,
    session: 42,
    rssPages: 77,
    startTime: 100,
  });
  assert.equal(parseProcStat("garbage"), null);
});

Deno.test("decodeWaitStatus() tells exit codes from signals", () => {
  assert.deepEqual(decodeWaitStatus(3 << 8), { code: 3, signal: null });
  assert.deepEqual(decodeWaitStatus(9), { code: null, signal: "KILL" });
  assert.deepEqual(decodeWaitStatus(15 | 0x80), { code: null, signal: "TERM" });
});
