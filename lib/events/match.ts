/**
 * Matching emitted events against a `start on` / `stop on` expression, as Upstart's
 * init/event_operator.c does. Pure and immutable: no Deno APIs, every function returns new values
 * and never changes its arguments (unchanged subtrees are shared, so an offer that matches nothing
 * returns the very same node).
 *
 * The rules, in Upstart's words:
 * - An operand matches an event when the names are equal (no glob on the name) and every argument
 *   matches: positional argument i against the VALUE of the event's i-th entry (its key ignored),
 *   `KEY=PATTERN` against the first entry named KEY, `KEY!=PATTERN` when KEY is present and does
 *   not match. A missing entry (too many positionals, unknown KEY, also for `!=`) is no match.
 *   Patterns are `$VAR`-expanded first (an expansion error is no match), then fnmatch'ed.
 * - Offering an event visits every operand (no short-circuit: under an `or` that is already true,
 *   the other side still matches and holds events). An operand that has matched keeps its first
 *   event and is not matched again until the expression is reset.
 * - `and` is true when both sides are, `or` when either is, each side keeping its state until the
 *   whole expression is reset. Upstart resets only after the whole expression became true and the
 *   job was started or stopped (event.c / job_class.c), never a half-true `and`: with
 *   `start on a and b`, the events a, a, b start once; a, b, b start once (the last b is held by the
 *   fresh `b` operand, waiting for another a).
 * - There is no "forget one event": a held event stays held (blocked) until the reset.
 */

import type { EventArg, EventExpr } from "./expr.ts";
import { fnmatch } from "./fnmatch.ts";
import { type ExpandEnv, ExpandError, tryExpandVars } from "./expand.ts";

/** A numbered emitted event (ids let the supervisor track blocking references). */
export interface MatchEvent {
  readonly id: number;
  readonly name: string;
  readonly env: readonly (readonly [string, string])[];
}

type Operand = Extract<EventExpr, { type: "event" }>;

/** Matching state of one expression: EventExpr's shape, operands remembering their event. */
export type MatchNode =
  | {
    readonly type: "event";
    readonly operand: Operand;
    /** The event that matched this operand, or null while unmatched. */
    readonly event: MatchEvent | null;
  }
  | {
    readonly type: "and" | "or";
    readonly left: MatchNode;
    readonly right: MatchNode;
    /** Cached truth value of this sub-expression. */
    readonly value: boolean;
  };

/** An unmatched state for `expr`. */
export function initialMatch(expr: EventExpr): MatchNode {
  if (expr.type === "event") return { type: "event", operand: expr, event: null };
  return {
    type: expr.type,
    left: initialMatch(expr.left),
    right: initialMatch(expr.right),
    value: false,
  };
}

/**
 * Offer one event to the expression. `vars`: the environment for `$VAR` expansion in patterns -
 * for `start on` pass undefined (no variables: `$VAR` fails to expand, so that operand does not
 * match, while `${VAR:-word}` still gives word); for `stop on` pass the instance's env. `matched`
 * is true when some operand newly took this event (the caller then holds/blocks it once).
 */
export function offerEvent(
  node: MatchNode,
  event: MatchEvent,
  vars?: ExpandEnv,
): { node: MatchNode; matched: boolean } {
  const state = { matched: false };
  const next = offer(node, event, vars, state);
  return { node: next, matched: state.matched };
}

function offer(
  node: MatchNode,
  event: MatchEvent,
  vars: ExpandEnv | undefined,
  state: { matched: boolean },
): MatchNode {
  if (node.type === "event") {
    if (node.event !== null || !operandMatches(node.operand, event, vars)) return node;
    state.matched = true;
    return { type: "event", operand: node.operand, event };
  }
  const left = offer(node.left, event, vars, state);
  const right = offer(node.right, event, vars, state);
  if (left === node.left && right === node.right) return node;
  return { type: node.type, left, right, value: combine(node.type, left, right) };
}

function combine(type: "and" | "or", left: MatchNode, right: MatchNode): boolean {
  return type === "and"
    ? isSatisfied(left) && isSatisfied(right)
    : isSatisfied(left) || isSatisfied(right);
}

/** Does `event` match this operand (event_operator_match)? */
export function operandMatches(
  operand: Operand,
  event: MatchEvent | { readonly name: string; readonly env: MatchEvent["env"] },
  vars?: ExpandEnv,
): boolean {
  if (operand.name !== event.name) return false;
  const env = event.env;
  // Upstart walks the event env with one cursor: positionals take the next entry, a named
  // argument moves the cursor to the entry it found (the parser puts positionals first anyway).
  let cursor = 0;
  for (const arg of operand.args) {
    let value: string;
    if (arg.kind === "named") {
      const at = env.findIndex(([k]) => k === arg.key);
      if (at < 0) return false;
      cursor = at;
      value = env[at]![1];
    } else {
      const entry = env[cursor];
      if (entry === undefined) return false;
      value = entry[1];
    }
    if (!argMatches(arg, value, vars)) return false;
    cursor++;
  }
  return true;
}

function argMatches(
  arg: EventArg,
  value: string,
  vars: ExpandEnv | undefined,
): boolean {
  const pattern = tryExpandVars(arg.value, vars);
  if (pattern instanceof ExpandError) return false;
  const hit = fnmatch(pattern, value);
  return arg.kind === "named" && arg.negated ? !hit : hit;
}

/** True when the whole expression is satisfied. */
export function isSatisfied(node: MatchNode): boolean {
  return node.type === "event" ? node.event !== null : node.value;
}

/**
 * The events that make the expression true, in expression order, each once (Upstart's
 * event_operator_events): only true sub-expressions are walked, so of an `or` only the true
 * side(s), and nothing of an `and` that is not complete. Empty when the expression is false.
 */
export function satisfyingEvents(node: MatchNode): MatchEvent[] {
  const out: MatchEvent[] = [];
  collect(node, true, out);
  return dedupe(out);
}

/** Every event currently held by matched operands, in expression order, each once. */
export function heldEvents(node: MatchNode): MatchEvent[] {
  const out: MatchEvent[] = [];
  collect(node, false, out);
  return dedupe(out);
}

function collect(node: MatchNode, onlyTrue: boolean, out: MatchEvent[]): void {
  if (onlyTrue && !isSatisfied(node)) return;
  if (node.type === "event") {
    if (node.event !== null) out.push(node.event);
    return;
  }
  collect(node.left, onlyTrue, out);
  collect(node.right, onlyTrue, out);
}

function dedupe(events: MatchEvent[]): MatchEvent[] {
  if (events.length < 2) return events;
  const seen = new Set<number>();
  const out: MatchEvent[] = [];
  for (const e of events) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    out.push(e);
  }
  return out;
}

/** Back to unmatched (event_operator_reset); the caller releases heldEvents() first. */
export function resetMatch(node: MatchNode): MatchNode {
  if (node.type === "event") {
    return node.event === null ? node : { type: "event", operand: node.operand, event: null };
  }
  const left = resetMatch(node.left);
  const right = resetMatch(node.right);
  if (left === node.left && right === node.right && !node.value) return node;
  return { type: node.type, left, right, value: false };
}

/**
 * The environment the satisfied expression contributes (event_operator_environment): the
 * KEY=VALUE entries of each true operand's event in expression order, a later entry replacing an
 * earlier one of the same key in place, and the event names for UPSTART_EVENTS (or
 * UPSTART_STOP_EVENTS). As in Upstart, names are listed per true operand: one event that matched
 * two operands (`foo A=1 and foo`) is named twice. Empty when the expression is false.
 */
export function eventEnvironment(node: MatchNode): { env: [string, string][]; names: string[] } {
  const operands: MatchEvent[] = [];
  collect(node, true, operands);
  const env: [string, string][] = [];
  const index = new Map<string, number>();
  for (const event of operands) {
    for (const [k, v] of event.env) {
      const at = index.get(k);
      if (at === undefined) {
        index.set(k, env.length);
        env.push([k, v]);
      } else env[at] = [k, v];
    }
  }
  return { env, names: operands.map((e) => e.name) };
}
