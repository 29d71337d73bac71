/** libnih tokenizer behaviour: quotes, escapes, continuations, comments, script blocks, NUL. */

import { deepEqual, equal } from "node:assert/strict";
import { parseJob } from "../../../lib/job/parse.ts";
import { CNLWS, cursor, LexError, parseBlock, scanToken } from "../../../lib/job/lexer.ts";

const main = (text: string) => parseJob(text, { name: "t", file: "t" }).job?.main;
const desc = (text: string) => parseJob(text, { name: "t", file: "t" }).job?.description;

Deno.test("exec keeps quotes and backslashes verbatim (no dequoting)", () => {
  deepEqual(main(`exec sh -c 'echo "hi there"'`), { exec: `sh -c 'echo "hi there"'` });
  deepEqual(main(`exec echo a\\\\b c\\"d`), { exec: `echo a\\\\b c\\"d` });
});

Deno.test("exec text stops at an unquoted # and drops trailing whitespace", () => {
  deepEqual(main("exec echo a   # b"), { exec: "echo a" });
  deepEqual(main("exec echo a#b"), { exec: "echo a" });
  deepEqual(main("exec echo 'a#b'"), { exec: "echo 'a#b'" });
});

Deno.test("a continuation joins lines with one space, whitespace around it collapsed", () => {
  deepEqual(main("exec a   \\\n     b \\\n c"), { exec: "a b c" });
});

Deno.test("a newline inside quotes becomes one space", () => {
  equal(desc("description 'one\n     two'"), "one two");
  deepEqual(main("exec echo 'a\n   b'"), { exec: "echo 'a b'" });
});

Deno.test("dequoting removes quotes and the backslash of \\\\ and \\<space> only", () => {
  equal(desc(`description "a b"'c d'`), "a bc d");
  equal(desc(`description a\\\\b`), "a\\b");
  equal(desc(`description a\\ b`), "a b");
  equal(desc(`description a\\xb`), "a\\xb");
  equal(desc(`description "a\\"b"`), `a\\"b`);
});

Deno.test("a backslash as the very last byte is a trailing slash error", () => {
  deepEqual(
    parseJob("exec foo \\", { name: "t", file: "t" }).diagnostics.map((d) => d.message),
    ["Trailing slash in file"],
  );
});

Deno.test("scanToken reports libnih's token length (0 for an empty quoted string)", () => {
  const t = scanToken(cursor(`"" x`), CNLWS, true);
  equal(t instanceof LexError ? -1 : t.len, 0);
  const u = scanToken(cursor(`'ab' x`), CNLWS, false);
  deepEqual(u instanceof LexError ? null : [u.text, u.len], ["'ab'", 4]);
});

Deno.test("script bodies lose the indentation common to all lines", () => {
  deepEqual(main("script\n    a\n      b\n    c\nend script\n"), { script: "a\n  b\nc\n" });
  deepEqual(main("script\n\ta\n  b\nend script\n"), { script: "\ta\n  b\n" });
});

Deno.test("an empty line in a script keeps all indentation (compared char by char, as libnih)", () => {
  deepEqual(main("script\n  a\n\n  b\nend script\n"), { script: "  a\n\n  b\n" });
});

Deno.test("script bodies are raw: quotes, # and backslashes are kept", () => {
  deepEqual(main('script\n  echo "x" # y \\\n  z\'\nend script'), {
    script: 'echo "x" # y \\\nz\'\n',
  });
});

Deno.test("end script may be indented and followed by a comment, but not by a word", () => {
  deepEqual(main("script\n a\n end script extra\n b\n\tend\tscript\t# c\n"), {
    script: "a\nend script extra\nb\n",
  });
});

Deno.test("'endscript' and 'end scripts' do not end a block", () => {
  equal(
    parseJob("script\n endscript\n end scripts\n", { name: "t", file: "t" }).diagnostics[0]
      ?.message,
    "Unterminated block",
  );
});

Deno.test("parseBlock reports an unterminated block at the line where the file ends (libnih)", () => {
  const c = cursor("x\ny\n", 0, 7);
  const r = parseBlock(c, "script");
  deepEqual(r instanceof LexError ? [r.message, r.line] : r, ["Unterminated block", 9]);
  const d = cursor("x\ny", 0, 7);
  const s = parseBlock(d, "script");
  deepEqual(s instanceof LexError ? [s.message, s.line] : s, ["Unterminated block", 8]);
});

Deno.test("NUL bytes act as whitespace and delimiters, never crash", () => {
  equal(desc("description a\0b"), undefined); // `b` is an unexpected token
  equal(desc("\0description x"), "x");
  deepEqual(main("exec a\0b"), { exec: "a" });
  deepEqual(main("script\n a\0b\n c\nend script"), { script: "ac\n" });
});

Deno.test("CR counts as whitespace (CRLF files parse)", () => {
  const r = parseJob("respawn\r\nexec a b\r\ndescription x\r\n", { name: "t", file: "t" });
  deepEqual([r.job?.respawn, r.job?.main, r.job?.description], [true, { exec: "a b" }, "x"]);
});
