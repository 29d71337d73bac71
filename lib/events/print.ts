/**
 * Event expressions back to text: the normal form `initctl show-config` prints, and the list of
 * event names an expression references. Pure: no Deno APIs.
 */

import type { EventArg, EventExpr } from "./expr.ts";

/** An argument as written: `VALUE`, `KEY=VALUE` or `KEY!=VALUE`. */
export function formatEventArg(a: EventArg): string {
  if (a.kind === "positional") return a.value;
  return `${a.key}${a.negated ? "!=" : "="}${a.value}`;
}

/** One operand: the event name and its arguments joined by single spaces. */
export function formatOperand(e: { readonly name: string; readonly args: readonly EventArg[] }) {
  return [e.name, ...e.args.map(formatEventArg)].join(" ");
}

/**
 * Normal form as initctl show-config prints: operand = name + args joined by single spaces (named
 * args as KEY=VALUE / KEY!=VALUE), each binary node `(L op R)`, a lone operand without parens.
 */
export function formatEventExpr(expr: EventExpr): string {
  // Iterative post-order walk: deep left-nested chains must not overflow the call stack.
  const out: string[] = [];
  const todo: (EventExpr | "and" | "or")[] = [expr];
  while (todo.length > 0) {
    const x = todo.pop()!;
    if (x === "and" || x === "or") {
      const right = out.pop()!, left = out.pop()!;
      out.push(`(${left} ${x} ${right})`);
    } else if (x.type === "event") {
      out.push(formatOperand(x));
    } else {
      todo.push(x.type, x.right, x.left);
    }
  }
  return out[0] ?? "";
}

/** The operands of an expression, left to right. */
export function eventOperands(
  expr: EventExpr,
): Extract<EventExpr, { type: "event" }>[] {
  const out: Extract<EventExpr, { type: "event" }>[] = [];
  const todo: EventExpr[] = [expr];
  while (todo.length > 0) {
    const x = todo.pop()!;
    if (x.type === "event") out.push(x);
    else todo.push(x.right, x.left);
  }
  return out;
}

/** Every event name an expression references, in order of first appearance, without repeats. */
export function eventNames(expr: EventExpr): string[] {
  return [...new Set(eventOperands(expr).map((e) => e.name))];
}
