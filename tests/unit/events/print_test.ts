/** Normal form and event names of event expressions. */

import { deepEqual, equal } from "node:assert/strict";
import { eventNames, formatEventExpr } from "../../../lib/events/print.ts";
import type { EventExpr } from "../../../lib/events/expr.ts";

const ev = (name: string, ...args: string[]): EventExpr => ({
  type: "event",
  name,
  args: args.map((a) =>
    a.includes("=")
      ? { kind: "named", key: a.split("=")[0]!, value: a.split("=")[1]!, negated: false }
      : { kind: "positional", value: a }
  ),
});

Deno.test("formatEventExpr prints a lone operand without parentheses", () => {
  equal(formatEventExpr(ev("runlevel", "[2345]")), "runlevel [2345]");
});

Deno.test("formatEventExpr parenthesises every binary node", () => {
  const e: EventExpr = {
    type: "or",
    left: { type: "and", left: ev("a"), right: ev("b", "K=V") },
    right: ev("c"),
  };
  equal(formatEventExpr(e), "((a and b K=V) or c)");
});

Deno.test("formatEventExpr prints negated arguments as KEY!=VALUE", () => {
  equal(
    formatEventExpr({
      type: "event",
      name: "net-device-up",
      args: [{ kind: "named", key: "IFACE", value: "lo", negated: true }],
    }),
    "net-device-up IFACE!=lo",
  );
});

Deno.test("eventNames lists each referenced event once, left to right", () => {
  const e: EventExpr = {
    type: "and",
    left: { type: "or", left: ev("started", "x"), right: ev("b") },
    right: ev("started", "y"),
  };
  deepEqual(eventNames(e), ["started", "b"]);
});
