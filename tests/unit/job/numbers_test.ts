/** strtol/strtoul emulation and the fnmatch used for emits globs. */

import { deepEqual, equal } from "node:assert/strict";
import { strtol, strtoul, toCInt, ULONG_MAX } from "../../../lib/job/numbers.ts";
import { fnmatch } from "../../../lib/events/fnmatch.ts";

Deno.test("strtol accepts whole decimal tokens with an optional sign, like C", () => {
  deepEqual(["5", "+5", "-5", "007", " 7"].map((t) => strtol(t)), [5n, 5n, -5n, 7n, 7n]);
  deepEqual(["99foo", "foo", "", "+", "5 ", "9223372036854775808"].map((t) => strtol(t)), [
    null,
    null,
    0n,
    null,
    null,
    null,
  ]);
  equal(strtol("9223372036854775807"), 9223372036854775807n);
});

Deno.test("strtoul wraps negatives modulo 2^64 and rejects overflow", () => {
  equal(strtoul("-1"), ULONG_MAX);
  equal(strtoul("-0"), 0n);
  equal(strtoul("18446744073709551616"), null);
  equal(strtoul("777", 8), 511n);
  equal(strtoul("8", 8), null);
});

Deno.test("toCInt keeps the low 32 bits, as a C (int) cast", () => {
  deepEqual([toCInt(4294967296n), toCInt(4294967295n), toCInt(-1n)], [0, -1, -1]);
});

const GLOBS: [string, string, boolean][] = [
  ["*", "anything", true],
  ["a*", "abc", true],
  ["a*", "ba", false],
  ["a?c", "abc", true],
  ["a?c", "ac", false],
  ["[2345]", "3", true],
  ["[2345]", "1", false],
  ["[!2345]", "1", true],
  ["[!2345]", "2", false],
  ["[^S]", "S", false],
  ["[a-c]x", "bx", true],
  ["[]]", "]", true],
  ["a\\*", "a*", true],
  ["a\\*", "ab", false],
  ["[", "[", true],
  ["*-device-*", "net-device-up", true],
  ["*a*a*a*a*b", "a".repeat(5000), false],
];

for (const [pattern, text, want] of GLOBS) {
  Deno.test(`fnmatch(${JSON.stringify(pattern)}, ${JSON.stringify(text.slice(0, 20))}) is ${want}`, () => {
    equal(fnmatch(pattern, text), want);
  });
}
