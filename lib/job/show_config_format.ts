/**
 * `initctl show-config` output for a list of jobs (used by `upkeep show-config` on files and by
 * the daemon's `initctl show-config`). Pure: no Deno APIs.
 *
 * ```
 * JOB
 *   emits EVENT
 *   start on NORMAL-FORM
 *   stop on NORMAL-FORM
 * ```
 * With `enumerate`, one line per operand instead:
 * `  start on EVENT (job:[ JOB], env:[ ARGS])`, where for the job events (starting, started,
 * stopping, stopped) the first `JOB=NAME` argument, or a first positional argument, is the job.
 */

import type { JobClass } from "./model.ts";
import type { EventExpr } from "../events/expr.ts";
import { eventOperands, formatEventArg, formatEventExpr } from "../events/print.ts";

const JOB_EVENTS = new Set(["starting", "started", "stopping", "stopped"]);

/** `  start on EVENT (job: NAME, env: ARGS)` lines for every operand, left to right. */
function enumerateLines(stanza: string, expr: EventExpr): string[] {
  return eventOperands(expr).map((op) => {
    let job: string | null = null;
    let env = "";
    op.args.forEach((a, i) => {
      const text = formatEventArg(a);
      if (JOB_EVENTS.has(op.name) && job === null) {
        if (text.startsWith("JOB=")) {
          job = text.slice(4);
          return;
        }
        if (i === 0 && !text.includes("=")) {
          job = text;
          return;
        }
      }
      env += " " + text;
    });
    return `  ${stanza} ${op.name} (job:${job === null ? "" : " " + job}, env:${env})`;
  });
}

/** The show-config text for `jobs`, in the order given; every line ends with a newline. */
export function formatShowConfig(jobs: readonly JobClass[], enumerate: boolean): string {
  const out: string[] = [];
  for (const job of jobs) {
    out.push(job.name);
    for (const e of job.emits) out.push(`  emits ${e}`);
    for (const [stanza, expr] of [["start on", job.startOn], ["stop on", job.stopOn]] as const) {
      if (!expr) continue;
      if (enumerate) out.push(...enumerateLines(stanza, expr));
      else out.push(`  ${stanza} ${formatEventExpr(expr)}`);
    }
  }
  return out.map((l) => l + "\n").join("");
}
