import assert from "node:assert/strict";
import { shellJoin, shellQuote, splitShellWords } from "../../../lib/install/shell_words.ts";

Deno.test("shellQuote() leaves plain words alone and single-quotes the rest", () => {
  assert.equal(shellQuote("/usr/local/sbin/upkeep"), "/usr/local/sbin/upkeep");
  assert.equal(shellQuote("--conf-dir"), "--conf-dir");
  assert.equal(shellQuote("a b"), "'a b'");
  assert.equal(shellQuote(""), "''");
  assert.equal(shellQuote("it's"), "'it'\\''s'");
  assert.equal(shellQuote("$HOME"), "'$HOME'");
});

Deno.test("splitShellWords() undoes shellJoin() for awkward words", () => {
  const argv = ["/opt/my dir/upkeep", "daemon", "it's", "", 'a"b', "$x", "tab\there"];
  assert.deepEqual(splitShellWords(shellJoin(argv)), argv);
});

Deno.test("splitShellWords() handles double quotes, backslashes and runs of blanks", () => {
  assert.deepEqual(splitShellWords(`  a  "b c" d\\ e "f\\"g" 'h'i `), [
    "a",
    "b c",
    "d e",
    'f"g',
    "hi",
  ]);
});

Deno.test("splitShellWords() returns null on an unterminated quote", () => {
  assert.equal(splitShellWords(`a "b`), null);
  assert.equal(splitShellWords(`a 'b`), null);
});
