/**
 * The common shapes of `start on` / `stop on`, recognised so each target can express them:
 * runlevels, the boot events upkeep and Upstart emit (`startup`, `filesystem`, network, mounts)
 * and another job's `starting|started|stopping|stopped`. Anything else is `unknown`, and the
 * caller reports it with the stanza's line. Pure: no Deno APIs.
 */

import type { EventArg, EventExpr } from "../events/expr.ts";
import { eventOperands, formatOperand } from "../events/print.ts";
import { fnmatch } from "../events/fnmatch.ts";

export type JobRelation = "starting" | "started" | "stopping" | "stopped";

/** One operand of the expression, classified. */
export type Trigger =
  /** `runlevel [2345]`: the runlevels (from `0123456S`) it matches. */
  | { readonly kind: "runlevel"; readonly levels: string }
  | { readonly kind: "startup" }
  /** `filesystem`, `local-filesystems`, `remote-filesystems`, `virtual-filesystems`, `all-swaps`. */
  | { readonly kind: "filesystem"; readonly event: string }
  /** `net-device-up [IFACE=...]` / `static-network-up`; `loopback` for `IFACE=lo`. */
  | { readonly kind: "network"; readonly loopback: boolean }
  | { readonly kind: "mounted"; readonly path: string }
  | { readonly kind: "job"; readonly relation: JobRelation; readonly job: string }
  | { readonly kind: "unknown"; readonly text: string };

export interface Condition {
  readonly triggers: readonly Trigger[];
  /** `single` operand, all `and`, all `or`, or `mixed` (both operators). */
  readonly shape: "single" | "and" | "or" | "mixed";
  readonly text: string;
}

const RUNLEVELS = "0123456S";
const FILESYSTEM_EVENTS = [
  "filesystem",
  "local-filesystems",
  "remote-filesystems",
  "virtual-filesystems",
  "all-swaps",
];
const JOB_EVENTS: readonly string[] = ["starting", "started", "stopping", "stopped"];

function positional(args: readonly EventArg[]): string[] {
  return args.filter((a) => a.kind === "positional").map((a) => a.value);
}

function named(args: readonly EventArg[], key: string): EventArg | undefined {
  return args.find((a) => a.kind === "named" && a.key === key);
}

/** The runlevels a pattern matches, or null when it holds a variable (`[!$RUNLEVEL]`). */
function levelsOf(pattern: string, negated: boolean): string | null {
  if (pattern.includes("$")) return null;
  return [...RUNLEVELS].filter((l) => fnmatch(pattern, l) !== negated).join("");
}

function classify(e: Extract<EventExpr, { type: "event" }>): Trigger {
  const text = formatOperand(e);
  const unknown: Trigger = { kind: "unknown", text };
  const pos = positional(e.args);
  if (e.name === "runlevel") {
    const byName = named(e.args, "RUNLEVEL");
    if (e.args.length === 0) return { kind: "runlevel", levels: RUNLEVELS };
    if (e.args.length !== 1) return unknown;
    const levels = pos.length === 1
      ? levelsOf(pos[0]!, false)
      : byName && byName.kind === "named"
      ? levelsOf(byName.value, byName.negated)
      : null;
    return levels === null ? unknown : { kind: "runlevel", levels };
  }
  if (e.name === "startup" && e.args.length === 0) return { kind: "startup" };
  if (FILESYSTEM_EVENTS.includes(e.name) && e.args.length === 0) {
    return { kind: "filesystem", event: e.name };
  }
  if (e.name === "static-network-up" && e.args.length === 0) {
    return { kind: "network", loopback: false };
  }
  if (e.name === "net-device-up") {
    if (e.args.length === 0) return { kind: "network", loopback: false };
    const iface = named(e.args, "IFACE");
    if (e.args.length !== 1 || !iface || iface.kind !== "named") return unknown;
    if (iface.value === "lo") return { kind: "network", loopback: !iface.negated };
    return iface.negated ? unknown : { kind: "network", loopback: false };
  }
  if (e.name === "mounted") {
    const mp = named(e.args, "MOUNTPOINT");
    if (
      e.args.length === 1 && mp && mp.kind === "named" && !mp.negated &&
      /^\/[^*?[$]*$/.test(mp.value)
    ) {
      return { kind: "mounted", path: mp.value };
    }
    return unknown;
  }
  if (JOB_EVENTS.includes(e.name)) {
    const job = pos[0] ?? (named(e.args, "JOB") as { value: string } | undefined)?.value;
    if (e.args.length !== 1 || !job || /[*?[$]/.test(job)) return unknown;
    if (e.args[0]!.kind === "named" && e.args[0]!.negated) return unknown;
    return { kind: "job", relation: e.name as JobRelation, job };
  }
  return unknown;
}

/** Classify every operand of a `start on` / `stop on` expression. */
export function analyzeCondition(expr: EventExpr, text: string): Condition {
  const ops = new Set<string>();
  const todo: EventExpr[] = [expr];
  while (todo.length) {
    const x = todo.pop()!;
    if (x.type !== "event") {
      ops.add(x.type);
      todo.push(x.left, x.right);
    }
  }
  const shape = ops.size === 0
    ? "single"
    : ops.size === 2
    ? "mixed"
    : ops.has("and")
    ? "and"
    : "or";
  return { triggers: eventOperands(expr).map(classify), shape, text };
}

/** The multi-user runlevels 2-5 (Debian's and Upstart's default) fully or partly covered. */
export function isMultiUser(levels: string): boolean {
  return /[2345]/.test(levels);
}

/**
 * True when a `stop on runlevel ...` covers halt or reboot (0 or 6): systemd, Kubernetes and
 * Nomad all stop a service when the machine goes down, and a change between runlevels 2-5 has no
 * counterpart (they are all multi-user.target).
 */
export function stopsAtShutdown(levels: string): boolean {
  return /[06]/.test(levels);
}
