/**
 * lazyLibc: libc opened on first use, each symbol bound when first read, and one binding shared by
 * the modules that name a function with the same signature.
 */

import * as assert from "node:assert/strict";
import { lazyLibc } from "../../../lib/process/libc_open.ts";

const GETPID = { getpid: { parameters: [], result: "i32" } } as const;

Deno.test("lazyLibc: a symbol works, and is bound once for every module that names it alike", () => {
  const a = lazyLibc(GETPID)();
  const b = lazyLibc({ ...GETPID, getppid: { parameters: [], result: "i32" } })();
  assert.ok(a && b);
  assert.equal(a.getpid(), Deno.pid);
  assert.strictEqual(a.getpid, b.getpid, "one binding of getpid for both");
  assert.equal(b.getppid(), Deno.ppid);
});

Deno.test("lazyLibc: the same name with another signature gets a binding of its own", () => {
  const a = lazyLibc(GETPID)();
  const c = lazyLibc({ getpid: { parameters: [], result: "i64" } })();
  assert.ok(a && c);
  assert.notStrictEqual(a.getpid as unknown, c.getpid as unknown);
  assert.equal(c.getpid(), BigInt(Deno.pid));
});

Deno.test("lazyLibc: a symbol libc lacks throws when first read, not when libc is opened", () => {
  const d = lazyLibc({ upkeep_no_such_symbol: { parameters: [], result: "void" } })();
  assert.ok(d);
  // The read itself throws (the binding), before any call.
  assert.throws(() => d.upkeep_no_such_symbol);
});
