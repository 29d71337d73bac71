/**
 * The text of `initctl show-config` and `initctl check-config` for jobs the daemon has loaded:
 * Upstart's formats, from the pure formatters in lib/job.
 */

import type { JobClass } from "../job/model.ts";
import { formatShowConfig } from "../job/show_config_format.ts";
import { checkConditions, formatConditionWarning } from "../job/check_events.ts";

export function showConfigText(jobs: JobClass[], enumerate: boolean): string {
  return formatShowConfig(jobs, enumerate).replace(/\n$/, "");
}

/** For each job with unsatisfiable conditions: `JOB` then `  start on: unknown job NAME` lines. */
export function checkConfigText(
  jobs: JobClass[],
  ignore: readonly string[],
  warn: boolean,
  only: string | null = null,
): string {
  const warnings = checkConditions(jobs, { ignored: ignore, warnAll: warn })
    .filter((w) => only === null || w.job === only);
  const byJob = new Map<string, string[]>();
  for (const w of warnings) {
    const lines = byJob.get(w.job) ?? [];
    lines.push(`  ${formatConditionWarning(w)}`);
    byJob.set(w.job, lines);
  }
  return [...byJob].map(([job, lines]) => [job, ...lines].join("\n")).join("\n");
}
