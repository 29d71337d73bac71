/** Event expressions: Upstart's grammar (equal precedence, left-assoc), arguments and errors. */

import { deepEqual, equal } from "node:assert/strict";
import { parseEventExpr } from "../../../lib/events/parse.ts";
import { formatEventExpr } from "../../../lib/events/print.ts";
import { parseJob } from "../../../lib/job/parse.ts";

function normal(text: string): string {
  const r = parseEventExpr(text);
  if (r.error) throw new Error(`${text}: ${r.error.line}: ${r.error.message}`);
  return formatEventExpr(r.expr);
}

function error(text: string): string {
  const r = parseEventExpr(text);
  if (!r.error) throw new Error(`expected an error for ${text}`);
  return `${r.error.line}: ${r.error.message}`;
}

const NORMAL: [string, string][] = [
  ["a", "a"],
  ["a or b", "(a or b)"],
  ["a or b and c", "((a or b) and c)"],
  ["a and b or c", "((a and b) or c)"],
  ["a or b or c", "((a or b) or c)"],
  ["a or (b and c)", "(a or (b and c))"],
  ["(a)", "a"],
  ["((a))", "a"],
  ["(a or b) and (c or d)", "((a or b) and (c or d))"],
  ["A and B C=D and E F=G", "((A and B C=D) and E F=G)"],
  ["runlevel [2345]", "runlevel [2345]"],
  ["runlevel [!$RUNLEVEL]", "runlevel [!$RUNLEVEL]"],
  ["net-device-up IFACE!=lo", "net-device-up IFACE!=lo"],
  ["started $WAIT_FOR or stopped $WAIT_FOR", "(started $WAIT_FOR or stopped $WAIT_FOR)"],
  ["foo a b K=v L!=w*", "foo a b K=v L!=w*"],
  ["foo 'two words' \"and\"", "foo two words and"],
  ["(a\n or b)", "(a or b)"],
  ["(a # comment\n  or b) # end", "(a or b)"],
  ["a \\\n or b", "(a or b)"],
  ["(a\n\tor\n\tb)", "(a or b)"],
];

for (const [text, want] of NORMAL) {
  Deno.test(`event expression ${JSON.stringify(text)} normalises to ${want}`, () => {
    equal(normal(text), want);
  });
}

Deno.test("event arguments keep positional, named and negated forms", () => {
  const r = parseEventExpr("e 1 2* K=V N!=x A=B!=C");
  deepEqual(r.expr, {
    type: "event",
    name: "e",
    args: [
      { kind: "positional", value: "1" },
      { kind: "positional", value: "2*" },
      { kind: "named", key: "K", value: "V", negated: false },
      { kind: "named", key: "N", value: "x", negated: true },
      { kind: "named", key: "A=B", value: "C", negated: true },
    ],
  });
});

Deno.test("and/or have equal precedence and associate to the left (tree shape)", () => {
  const r = parseEventExpr("a or b and c");
  equal(r.expr?.type, "and");
  if (r.expr?.type === "and") {
    equal(r.expr.left.type, "or");
    deepEqual(r.expr.right, { type: "event", name: "c", args: [] });
  }
});

const ERRORS: [string, string][] = [
  ["", "1: Expected token"],
  ["and", "1: Expected event"],
  ["a and", "1: Expected event"],
  ["a or or b", "1: Expected event"],
  ["a and or b", "1: Expected event"],
  ["frodo (a or b)", "1: Expected operator"],
  ["(a or b) frodo", "1: Expected operator"],
  ["a(b)", "1: Expected operator"],
  ["(a or b", "1: Mismatched parentheses"],
  ["(a or\n b\n", "3: Mismatched parentheses"],
  ["a or b)", "1: Mismatched parentheses"],
  ["(a or b))", "1: Mismatched parentheses"],
  ["()", "1: Expected event"],
  ["(", "1: Expected event"],
  ["e K=V pos", "1: Expected variable name before value"],
  ["e 'unterminated", "1: Unterminated quoted string"],
  ["a\nor b", "2: Unexpected token"],
  ["(a\n\n or b)", "2: Expected token"],
  ["(a\n# comment line\n or b)", "2: Expected token"],
  ["(a or\n  b c or\n  and d)", "3: Expected event"],
  ['e ""', "1: Expected token"],
];

for (const [text, want] of ERRORS) {
  Deno.test(`event expression ${JSON.stringify(text)} fails with ${want}`, () => {
    equal(error(text), want);
  });
}

Deno.test("a newline outside parentheses ends start on; the next line is a new stanza", () => {
  const r = parseJob("start on a\nor b", { name: "t", file: "t" });
  deepEqual(r.diagnostics.map((d) => `${d.line}: ${d.message}`), ["2: Unknown stanza"]);
});

Deno.test("start on inside parentheses may span lines with comments at their ends", () => {
  const r = parseJob("start on (a and # one\n  b)\nrespawn\n", { name: "t", file: "t" });
  equal(r.job && r.job.startOn && formatEventExpr(r.job.startOn), "(a and b)");
  equal(r.job?.respawn, true);
});

Deno.test("a quoted operator is an ordinary word", () => {
  equal(normal("a 'or' b"), "a or b");
  deepEqual(parseEventExpr("a 'or' b").expr, {
    type: "event",
    name: "a",
    args: [{ kind: "positional", value: "or" }, { kind: "positional", value: "b" }],
  });
});

Deno.test("a 2,000-operand chain parses and prints without deep recursion", () => {
  const text = Array.from({ length: 2000 }, (_, i) => `e${i}`).join(" and ");
  const out = normal(text);
  equal(out.startsWith("(".repeat(1999) + "e0 and e1)"), true);
});
