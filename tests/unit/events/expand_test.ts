/**
 * expandVars(): Upstart's environ_expand rules (init/environ.c), table-driven, including the
 * quirks: `$$` stays, `${}` is a dollar, the word of `${A:-word}` is always expanded.
 */

import assert from "node:assert/strict";
import { ExpandError, expandVars, tryExpandVars } from "../../../lib/events/expand.ts";

const ENV: Readonly<Record<string, string>> = {
  FOO: "frodo",
  BAR: "bilbo",
  BAZ: "xx",
  HOBBIT: "FOO",
  NULL: "",
  RUNLEVEL: "2",
  _under9: "u",
  TRICKY: "$BAR}",
};

/** [text, expected expansion]. */
const OK: readonly (readonly [string, string])[] = [
  ["no references", "no references"],
  ["", ""],
  ["this is a $FOO test", "this is a frodo test"],
  ["test $FOO $BAR$BAZ", "test frodo bilboxx"],
  ["$FOO-$BAR", "frodo-bilbo"],
  ["$FOO.conf", "frodo.conf"],
  ["$_under9!", "u!"],
  ["${BAR}test", "bilbotest"],
  ["${BAR}${FOO}test${BAZ}", "bilbofrodotestxx"],
  ["${$HOBBIT} baggins", "frodo baggins"],
  ["${${HOBBIT}} baggins", "frodo baggins"],
  ["${MEEP-a }test", "a test"],
  ["${BAZ-a }test", "xxtest"],
  ["${NULL-a }test", "test"],
  ["${MEEP:-a }test", "a test"],
  ["${BAZ:-a }test", "xxtest"],
  ["${NULL:-a }test", "a test"],
  ["${MEEP+good }test", "test"],
  ["${BAZ+good }test", "good test"],
  ["${NULL+good }test", "good test"],
  ["${MEEP:+good }test", "test"],
  ["${BAZ:+good }test", "good test"],
  ["${NULL:+good }test", "test"],
  ["${$BAZ:-${$HOBBIT}}test", "frodotest"],
  ["${MEEP:-${BAR:-x}-y}", "bilbo-y"],
  ["${MEEP-}", ""],
  ["${MEEP:-}", ""],
  ["this is a $ test", "this is a $ test"],
  ["$$", "$$"],
  ["$$FOO", "$frodo"],
  ["cost $5", "cost $5"],
  ["trailing $", "trailing $"],
  ["${}test", "$test"],
  ["${}{}", "${}"],
  ["a${}${}b", "a$$b"],
  ["$TRICKY", "$BAR}"],
  ["${TRICKY}x", "$BAR}x"],
  ["[!$RUNLEVEL]", "[!2]"],
  ["[!${RUNLEVEL}]", "[!2]"],
  ["${:-empty name}", "empty name"],
];

Deno.test("expandVars() expands every reference form like Upstart", () => {
  for (const [text, want] of OK) assert.equal(expandVars(text, ENV), want, text);
});

/** [text, error kind, variable]. */
const ERRORS: readonly (readonly [string, ExpandError["kind"], string])[] = [
  ["this is a $WIBBLE test", "unknown-parameter", "WIBBLE"],
  ["this is a ${WIBBLE} test", "unknown-parameter", "WIBBLE"],
  ["${$WIBBLE:-$FOO}", "unknown-parameter", "WIBBLE"],
  // The word is expanded even though FOO is set and the word is not used.
  ["${FOO:-$WIBBLE}", "unknown-parameter", "WIBBLE"],
  ["${FOO+$WIBBLE}", "unknown-parameter", "WIBBLE"],
  // The name is expanded first: ${$BAR} looks up the variable "bilbo", which is unset.
  ["${$BAR}", "unknown-parameter", "bilbo"],
  ["${$}", "unknown-parameter", "$"],
  ["${FOO:!x}", "expected-operator", ""],
  ["${FOO:}", "expected-operator", ""],
  // Only `}`, `:`, `-` and `+` end a name: "FOO x" is looked up as it is.
  ["${FOO x}", "unknown-parameter", "FOO x"],
  ["${FOO:-$BAR", "mismatched-braces", ""],
  ["${FOO", "mismatched-braces", ""],
  ["${", "mismatched-braces", ""],
];

Deno.test("expandVars() throws ExpandError with Upstart's messages", () => {
  for (const [text, kind, variable] of ERRORS) {
    assert.throws(
      () => expandVars(text, ENV),
      (e: unknown) => e instanceof ExpandError && e.kind === kind && e.variable === variable,
      text,
    );
  }
  const e = tryExpandVars("$WIBBLE", ENV);
  assert.ok(e instanceof ExpandError);
  assert.equal(e.message, "Unknown parameter: WIBBLE");
  assert.equal(new ExpandError("", "expected-operator").message, "Expected operator");
  assert.equal(new ExpandError("", "mismatched-braces").message, "Mismatched braces");
});

Deno.test("expandVars() with no variables fails on $VAR but still honours defaults", () => {
  assert.ok(tryExpandVars("[!$RUNLEVEL]", undefined) instanceof ExpandError);
  assert.equal(tryExpandVars("${RUNLEVEL:-2}", undefined), "2");
  assert.equal(tryExpandVars("${RUNLEVEL+x}", undefined), "");
  assert.equal(tryExpandVars("no dollar", undefined), "no dollar");
  assert.equal(tryExpandVars("$$", undefined), "$$");
});

Deno.test("expandVars() takes an ordered list where the first entry of a key wins", () => {
  const list = [["A", "first"], ["B", "b"], ["A", "second"]] as const;
  assert.equal(expandVars("$A/$B", list), "first/b");
  assert.throws(() => expandVars("$C", list), ExpandError);
});

Deno.test("expandVars() looks up a '=' name inside KEY=VALUE text, as environ_getn does", () => {
  assert.equal(expandVars("${A=B}", { A: "B=C" }), "C");
  assert.equal(expandVars("${A=B}", [["A", "B=C"]]), "C");
  assert.throws(() => expandVars("${A=X}", { A: "B=C" }), ExpandError);
});

Deno.test("expandVars() ignores inherited object keys", () => {
  assert.throws(() => expandVars("$constructor", {}), ExpandError);
  assert.throws(() => expandVars("${__proto__}", {}), ExpandError);
  assert.throws(() => expandVars("$toString", ENV), ExpandError);
});
