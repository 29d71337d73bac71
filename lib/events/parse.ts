/**
 * Parses `start on` / `stop on` event expressions with Upstart 1.13's grammar and error rules:
 * `and`/`or` of equal precedence, left-associative; parentheses; newlines only inside parentheses
 * (a comment may end those lines); positional arguments before `KEY=VALUE` / `KEY!=VALUE` ones.
 * The algorithm is Upstart's operator stack (so errors arise exactly where Upstart raises them).
 * Pure: no Deno APIs; never throws on any input.
 */

import type { EventArg, EventExpr } from "./expr.ts";
import {
  type Cursor,
  cursor,
  hasToken,
  LexError,
  nextToken,
  PAREN_CNLWS,
  skipComment,
  skipWhitespace,
} from "../job/lexer.ts";

export const EVENT_MSG = {
  expectedEvent: "Expected event",
  expectedOperator: "Expected operator",
  expectedVariable: "Expected variable name before value",
  mismatchedParens: "Mismatched parentheses",
  tooDeep: "Expression too complex",
} as const;

/**
 * The most operators one expression may nest (a chain `a and b and c ...` nests one per operator).
 * Upstart has no limit; upkeep has one so that no job file can exhaust the stack of the code that
 * walks expressions (matching, printing: they overflow at about 8,000 levels); real jobs use a
 * handful.
 */
export const MAX_EXPR_DEPTH = 2048;

/** The depth of an expression tree (an operand is 1), without recursion. */
export function exprDepth(expr: EventExpr): number {
  let max = 0;
  const todo: [EventExpr, number][] = [[expr, 1]];
  while (todo.length > 0) {
    const [x, d] = todo.pop()!;
    if (d > max) max = d;
    if (x.type !== "event") todo.push([x.left, d + 1], [x.right, d + 1]);
  }
  return max;
}

/** An event name being collected, with its raw argument tokens. */
interface Match {
  readonly kind: "match";
  readonly name: string;
  readonly args: string[];
}
interface Op {
  readonly kind: "op";
  readonly type: "and" | "or";
  readonly left: EventExpr;
}
/** `null` marks an open parenthesis on the stack. */
type Item = Match | Op | null;

/** Split an argument token as Upstart's matcher does: first `!=`, else first `=`. */
export function parseEventArg(token: string): EventArg {
  const ne = token.indexOf("!=");
  if (ne !== -1) {
    return { kind: "named", key: token.slice(0, ne), value: token.slice(ne + 2), negated: true };
  }
  const eq = token.indexOf("=");
  if (eq !== -1) {
    return { kind: "named", key: token.slice(0, eq), value: token.slice(eq + 1), negated: false };
  }
  return { kind: "positional", value: token };
}

function toExpr(m: Match): EventExpr {
  return { type: "event", name: m.name, args: m.args.map(parseEventArg) };
}

class ExprState {
  readonly stack: Item[] = []; // top at the end
  root: EventExpr | null = null;

  top(): Item | undefined {
    return this.stack[this.stack.length - 1];
  }

  /** Fold the stack down to the nearest open parenthesis into `root`. */
  collect(line: number): LexError | null {
    while (this.stack.length > 0) {
      const item = this.stack[this.stack.length - 1];
      if (item === null || item === undefined) break;
      this.stack.pop();
      if (item.kind === "op") {
        if (!this.root) return new LexError(EVENT_MSG.expectedEvent, line);
        this.root = { type: item.type, left: item.left, right: this.root };
      } else {
        if (this.root) return new LexError(EVENT_MSG.expectedOperator, line);
        this.root = toExpr(item);
      }
    }
    if (!this.root) return new LexError(EVENT_MSG.expectedEvent, line);
    return null;
  }
}

/**
 * Parse an expression starting at the cursor (just after `on`), reading further lines while
 * parentheses are open. On success the cursor is past the expression's last line; on error it is
 * left at the offending token.
 */
export function parseEventExprAt(c: Cursor, state = { paren: 0 }): EventExpr | LexError {
  const first = c.line;
  const r = parseAt(c, state);
  if (r instanceof LexError) return r;
  state.paren = 0;
  if (exprDepth(r) > MAX_EXPR_DEPTH) {
    return new LexError(`${EVENT_MSG.tooDeep} (nested deeper than ${MAX_EXPR_DEPTH})`, first);
  }
  return r;
}

/** `state.paren` counts the parentheses open at the point of an error. */
function parseAt(c: Cursor, state: { paren: number }): EventExpr | LexError {
  const st = new ExprState();
  let line = c.line;
  state.paren = 0;
  do {
    skipWhitespace(c);
    do {
      line = c.line;
      const ch = c.src.charCodeAt(c.pos);
      if (c.pos < c.src.length && (ch === 0x28 || ch === 0x29)) {
        if (ch === 0x28) {
          state.paren++;
          const top = st.top();
          if (st.root || (top && top.kind === "match")) {
            return new LexError(EVENT_MSG.expectedOperator, line);
          }
          st.stack.push(null);
        } else {
          state.paren--;
          const err = st.collect(line);
          if (err) return err;
          if (st.stack.length === 0) return new LexError(EVENT_MSG.mismatchedParens, line);
          st.stack.pop();
        }
        c.pos++;
        skipWhitespace(c);
        continue;
      }
      const save = c.pos, saveLine = c.line;
      const raw = nextToken(c, PAREN_CNLWS, false);
      if (raw instanceof LexError) return raw;
      if (raw.text === "and" || raw.text === "or") {
        const err = st.collect(line);
        if (err) return err;
        st.stack.push({ kind: "op", type: raw.text, left: st.root! });
        st.root = null;
        continue;
      }
      c.pos = save;
      c.line = saveLine;
      const tok = nextToken(c, PAREN_CNLWS, true);
      if (tok instanceof LexError) return tok;
      const top = st.top();
      if (!top || top.kind !== "match") {
        st.stack.push({ kind: "match", name: tok.text, args: [] });
      } else {
        top.args.push(tok.text);
        let positional = true;
        for (const a of top.args) {
          if (a.includes("=")) positional = false;
          // At the line the tokenizer reached past the value (a `\` continuation after it too).
          else if (!positional) return new LexError(EVENT_MSG.expectedVariable, c.line);
        }
      }
    } while (hasToken(c));
    skipComment(c); // at a comment, newline or EOF: cannot fail
  } while (c.pos < c.src.length && state.paren > 0);
  const err = st.collect(line);
  if (err) return err;
  // Parentheses still open are reported where the reading stopped, as libnih counts lines: the
  // end of the file.
  if (st.stack.length !== 0) return new LexError(EVENT_MSG.mismatchedParens, c.line);
  return st.root!;
}

/** Result of parsing a stand-alone expression. */
export type EventExprResult =
  | { readonly expr: EventExpr; readonly error: null }
  | { readonly expr: null; readonly error: { readonly message: string; readonly line: number } };

/** Parse an expression given as text (what follows `start on`), e.g. `started a or stopped b`. */
export function parseEventExpr(text: string): EventExprResult {
  const c = cursor(text);
  const r = parseEventExprAt(c);
  if (r instanceof LexError) return { expr: null, error: { message: r.message, line: r.line } };
  skipWhitespace(c);
  if (c.pos < text.length && hasToken(c)) {
    return { expr: null, error: { message: "Unexpected token", line: c.line } };
  }
  return { expr: r, error: null };
}
