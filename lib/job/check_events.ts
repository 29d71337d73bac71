/**
 * The cross-job half of check-config, as `initctl check-config` does it: for every `start on` /
 * `stop on`, find events that no checked job `emits` (globs allowed) and that upkeep does not emit
 * itself, and job events (`started foo`) naming jobs that do not exist. An `or` is satisfied when
 * either side is (unless `warnAll`, initctl's `-w`); Upstart's quirks are kept: the first failing
 * operator node, root first and right operand before left, has all the unknown names under it
 * reported, right to left. Pure: no Deno APIs.
 */

import type { JobClass } from "./model.ts";
import type { EventExpr } from "../events/expr.ts";
import { formatEventArg } from "../events/print.ts";
import { fnmatch } from "../events/fnmatch.ts";

/** Events upkeep itself emits (and Upstart's init-internal ones). `NAME/failed` too. */
export const UPKEEP_EVENTS: readonly string[] = [
  "startup",
  "starting",
  "started",
  "stopping",
  "stopped",
  "virtual-filesystems",
  "local-filesystems",
  "remote-filesystems",
  "filesystem",
  "net-device-up",
  "static-network-up",
  "runlevel",
  "unhealthy",
  "respawn-failed",
  "debug",
  "control-alt-delete",
  "keyboard-request",
  "power-status-changed",
];

const JOB_EVENTS = new Set(["starting", "started", "stopping", "stopped"]);

export interface ConditionWarning {
  readonly job: string;
  readonly condition: "start on" | "stop on";
  readonly kind: "event" | "job";
  readonly name: string;
}

/** `start on: unknown event NAME`, as initctl words it. */
export function formatConditionWarning(w: ConditionWarning): string {
  return `${w.condition}: unknown ${w.kind} ${w.name}`;
}

export interface CheckOptions {
  /** Events to accept although nobody emits them (`-i a,b`). */
  readonly ignored?: readonly string[];
  /** Treat `or` like `and`: report every unknown name (initctl's `-w`). */
  readonly warnAll?: boolean;
}

interface Node {
  readonly value: boolean;
  readonly errors: { kind: "event" | "job"; name: string }[];
  readonly operator: boolean;
  readonly children: Node[];
}

/** Unknown events and jobs referenced by the jobs' conditions. */
export function checkConditions(
  jobs: readonly JobClass[],
  opts: CheckOptions = {},
): ConditionWarning[] {
  const names = new Set(jobs.map((j) => j.name));
  const emitted = jobs.flatMap((j) => j.emits);
  const known = new Set([...UPKEEP_EVENTS, ...(opts.ignored ?? [])]);
  const eventOk = (e: string) =>
    known.has(e) || e.endsWith("/failed") || emitted.some((p) => fnmatch(p, e));

  const operand = (expr: Extract<EventExpr, { type: "event" }>): Node => {
    const errors: Node["errors"] = [];
    if (JOB_EVENTS.has(expr.name)) {
      let job: string | null = null;
      for (const [i, a] of expr.args.entries()) {
        const t = formatEventArg(a);
        if (t.startsWith("JOB=")) job = t.slice(4);
        else if (i === 0 && !t.includes("=")) job = t;
        if (job !== null) break;
      }
      if (job !== null && !names.has(job) && !job.startsWith("$")) {
        errors.push({ kind: "job", name: job });
      }
    }
    if (!eventOk(expr.name)) errors.push({ kind: "event", name: expr.name });
    return { value: errors.length === 0, errors, operator: false, children: [] };
  };

  // Iterative post-order evaluation: long `a and b and …` chains must not overflow the stack.
  const evaluate = (expr: EventExpr): Node => {
    const done: Node[] = [];
    const todo: (EventExpr | { op: "and" | "or" })[] = [expr];
    while (todo.length) {
      const x = todo.pop()!;
      if ("op" in x) {
        const r = done.pop()!, l = done.pop()!;
        const value = x.op === "and" || opts.warnAll ? l.value && r.value : l.value || r.value;
        // Upstart's tree holds the right operand first: searches and reports go right to left.
        done.push({ value, errors: [], operator: true, children: [r, l] });
      } else if (x.type === "event") {
        done.push(operand(x));
      } else {
        todo.push({ op: x.type }, x.right, x.left);
      }
    }
    return done[0]!;
  };

  const collect = (root: Node, out: Node["errors"]) => {
    const post: Node[] = [];
    const todo = [root];
    while (todo.length) {
      const n = todo.pop()!;
      post.push(n);
      todo.push(...n.children);
    }
    for (const n of post.reverse()) out.push(...n.errors);
  };

  const out: ConditionWarning[] = [];
  for (const job of jobs) {
    for (const [condition, expr] of [["start on", job.startOn], ["stop on", job.stopOn]] as const) {
      if (!expr) continue;
      const root = evaluate(expr);
      const todo = [root];
      while (todo.length) {
        const n = todo.shift()!;
        if (n !== root && !n.operator) continue;
        if (!n.value) {
          const errs: Node["errors"] = [];
          collect(n, errs);
          for (const e of errs) out.push({ job: job.name, condition, ...e });
          break;
        }
        todo.unshift(...n.children.filter((ch) => ch.operator));
      }
    }
  }
  return out;
}
