/**
 * The `start on` / `stop on` expression tree. Pure types only.
 *
 * `and` / `or` have equal precedence and associate to the left, as in Upstart: `a or b and c` is
 * `((a or b) and c)`. An operand is an event name with arguments: positional values (matched by
 * position against the event's environment) and `KEY=VALUE` / `KEY!=VALUE` (matched by key).
 * Values are glob patterns (fnmatch) and may hold `$VAR` references.
 */

export type EventArg =
  | { readonly kind: "positional"; readonly value: string }
  | {
    readonly kind: "named";
    readonly key: string;
    readonly value: string;
    readonly negated: boolean;
  };

export type EventExpr =
  | { readonly type: "event"; readonly name: string; readonly args: readonly EventArg[] }
  | { readonly type: "and" | "or"; readonly left: EventExpr; readonly right: EventExpr };

/** An emitted event: its name and its environment (`KEY=VALUE` entries, in order). */
export interface EventInstance {
  readonly name: string;
  readonly env: readonly (readonly [string, string])[];
}
