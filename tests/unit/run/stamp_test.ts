/** Unit tests of the line stamper used for `upkeep run` logs. */

import assert from "node:assert/strict";
import { LineStamper, stampPrefix } from "../../../lib/run/stamp.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("LineStamper stamps each complete line with the time it arrived", () => {
  const s = new LineStamper();
  assert.equal(dec(s.push(enc("a\nb\n"), 0)), `${stampPrefix(0)}a\n${stampPrefix(0)}b\n`);
  assert.equal(stampPrefix(0), "1970-01-01T00:00:00.000Z ");
});

Deno.test("LineStamper keeps a partial line until its newline, stamped when it began", () => {
  const s = new LineStamper();
  assert.equal(dec(s.push(enc("par"), 1000)), "");
  assert.equal(dec(s.push(enc("tial\nnext"), 2000)), `${stampPrefix(1000)}partial\n`);
  assert.equal(dec(s.flush()), `${stampPrefix(2000)}next\n`);
  assert.equal(dec(s.flush()), "");
});

Deno.test("LineStamper copies pending bytes so the caller may reuse its buffer", () => {
  const s = new LineStamper();
  const buf = enc("abc");
  s.push(buf, 0);
  buf.set(enc("xyz"));
  assert.equal(dec(s.push(enc("\n"), 0)), `${stampPrefix(0)}abc\n`);
});

Deno.test("LineStamper keeps multi-byte characters split across chunks intact", () => {
  const s = new LineStamper();
  const bytes = enc("é\n");
  const out = [s.push(bytes.subarray(0, 1), 0), s.push(bytes.subarray(1), 0)];
  assert.equal(out.map(dec).join(""), `${stampPrefix(0)}é\n`);
});
