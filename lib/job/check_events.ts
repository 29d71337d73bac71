/**
 * The cross-job half of check-config, as `initctl check-config` does it: for every `start on` /
 * `stop on`, find events that no checked job `emits` (globs allowed) and that upkeep does not emit
 * itself (`NAME/failed` included, as Upstart), and job events (`started foo`) naming jobs that do not exist. An `or` is satisfied when
 * either side is (unless `warnAll`, initctl's `-w`); Upstart's quirks are kept: the first failing
 * operator node, root first and right operand before left, has all the unknown names under it
 * reported, right to left. Pure: no Deno APIs.
 */

import type { JobClass } from "./model.ts";
import type { EventExpr } from "../events/expr.ts";
import { formatEventArg } from "../events/print.ts";
import { fnmatch } from "../events/fnmatch.ts";

/** Events init itself emits, as Upstart's initctl knows them (session-end: a session init's). */
export const INIT_EVENTS: readonly string[] = [
  "startup",
  "starting",
  "started",
  "stopping",
  "stopped",
  "debug",
  "control-alt-delete",
  "keyboard-request",
  "power-status-changed",
  "session-end",
];

/** Events of upkeep's extensions (health checks, respawn retry), emitted by the daemon. */
export const EXTENSION_EVENTS: readonly string[] = ["unhealthy", "respawn-failed"];

/** The boot events upkeep emits at start unless told otherwise (lib/supervisor/boot_events.ts). */
export const BOOT_EVENTS: readonly string[] = [
  "virtual-filesystems",
  "local-filesystems",
  "remote-filesystems",
  "filesystem",
  "net-device-up",
  "static-network-up",
  "runlevel",
];

/** Every event upkeep itself may emit. */
export const UPKEEP_EVENTS: readonly string[] = [
  ...INIT_EVENTS,
  ...EXTENSION_EVENTS,
  ...BOOT_EVENTS,
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
  /**
   * The boot events count as known (the default): the daemon emitted them. A daemon started as
   * Upstart's init is (`--startup-event`, `--no-startup-event`) knows Upstart's events only.
   */
  readonly bootEvents?: boolean;
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
  const own = opts.bootEvents === false ? [...INIT_EVENTS, ...EXTENSION_EVENTS] : UPKEEP_EVENTS;
  const known = new Set([...own, ...(opts.ignored ?? [])]);
  const eventOk = (e: string) => known.has(e) || emitted.some((p) => fnmatch(p, e));

  const operand = (expr: Extract<EventExpr, { type: "event" }>): Node => {
    let job: string | null = null;
    if (JOB_EVENTS.has(expr.name)) {
      for (const [i, a] of expr.args.entries()) {
        const t = formatEventArg(a);
        if (t.startsWith("JOB=")) job = t.slice(4);
        else if (i === 0 && !t.includes("=")) job = t;
        if (job !== null) break;
      }
    }
    // As initctl: the operand is written `EVENT[ JOB]`, then cut at its first space (so an event
    // name holding a space is an event and a job); the event is reported before the job.
    const text = job === null ? expr.name : `${expr.name} ${job}`;
    const space = text.indexOf(" ");
    const event = space === -1 ? text : text.slice(0, space);
    const named = space === -1 ? null : text.slice(space + 1);
    const errors: Node["errors"] = [];
    if (!eventOk(event)) errors.push({ kind: "event", name: event });
    if (named !== null && !names.has(named) && !named.startsWith("$")) {
      errors.push({ kind: "job", name: named });
    }
    return { value: errors.length === 0, errors, operator: false, children: [] };
  };

  // Iterative post-order evaluation: long `a and b and ...` chains must not overflow the stack.
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
