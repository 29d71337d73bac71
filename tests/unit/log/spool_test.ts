/** The line-mode record: where a new daemon goes on from after the old one stopped anywhere. */

import { deepEqual } from "node:assert/strict";
import {
  decodeRecord,
  encodeRecord,
  resumePoint,
  type SpoolRecord,
} from "../../../lib/log/spool.ts";

const rec = (pending: SpoolRecord["pending"]): SpoolRecord => ({
  done: 100,
  ino: 7n,
  logSize: 1000,
  pending,
});

Deno.test("a record survives encoding", () => {
  for (const r of [rec(null), rec({ done: 150, logSize: 1070 })]) {
    deepEqual(decodeRecord(encodeRecord(r)), r);
  }
  deepEqual(decodeRecord(new Uint8Array(64)), null);
  deepEqual(decodeRecord(new Uint8Array(3)), null);
});

Deno.test("resumePoint(): no record processes the spool from its start", () => {
  deepEqual(resumePoint(null, 50, { ino: 1n, size: 0 }), { from: 0, truncateLogTo: null });
});

Deno.test("resumePoint(): a write that reached the log is done", () => {
  deepEqual(resumePoint(rec({ done: 150, logSize: 1070 }), 200, { ino: 7n, size: 1070 }), {
    from: 150,
    truncateLogTo: null,
  });
});

Deno.test("resumePoint(): a write that never started is redone", () => {
  deepEqual(resumePoint(rec({ done: 150, logSize: 1070 }), 200, { ino: 7n, size: 1000 }), {
    from: 100,
    truncateLogTo: null,
  });
});

Deno.test("resumePoint(): a write cut short is undone, then redone", () => {
  deepEqual(resumePoint(rec({ done: 150, logSize: 1070 }), 200, { ino: 7n, size: 1033 }), {
    from: 100,
    truncateLogTo: 1000,
  });
});

Deno.test("resumePoint(): a log replaced or truncated meanwhile takes the write as done", () => {
  deepEqual(resumePoint(rec({ done: 150, logSize: 1070 }), 200, { ino: 8n, size: 10 }).from, 150);
  deepEqual(resumePoint(rec({ done: 150, logSize: 1070 }), 200, { ino: 7n, size: 10 }).from, 150);
});

Deno.test("resumePoint(): past the spool's end means it was emptied after being written", () => {
  deepEqual(resumePoint(rec({ done: 150, logSize: 1070 }), 0, { ino: 7n, size: 1070 }), {
    from: 0,
    truncateLogTo: null,
  });
  deepEqual(resumePoint(rec(null), 40, { ino: 7n, size: 1000 }).from, 40);
});
