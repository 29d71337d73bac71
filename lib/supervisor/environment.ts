/**
 * The environment of job processes and events, as Upstart builds it. Pure.
 *
 * start env = the daemon's job environment (PATH, TERM and `set-env` variables) -> the class's `env`
 * stanzas -> KEY=VALUE of the events that started it -> `UPSTART_EVENTS`. Every process also gets
 * `UPSTART_JOB` and `UPSTART_INSTANCE`; pre-stop and post-stop add the stop env.
 */

import type { JobClass } from "../job/model.ts";

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin";

export type Env = Record<string, string>;

/** The job environment table a daemon starts with: PATH and TERM (from the daemon, when set). */
export function initialJobEnv(daemonEnv: Readonly<Env>): Env {
  const env: Env = { PATH: DEFAULT_PATH };
  if (daemonEnv.TERM) env.TERM = daemonEnv.TERM;
  return env;
}

/** Daemon job env without what `env KEY` took out, then the class's `env` stanzas. */
export function classEnv(job: JobClass, jobEnv: Readonly<Env>): Env {
  const env: Env = { ...jobEnv };
  for (const key of job.envUnset ?? []) delete env[key];
  return Object.assign(env, job.env);
}

/** Start env for a start caused by events (or by initctl with KEY=VALUE pairs). */
export function startEnv(
  job: JobClass,
  jobEnv: Readonly<Env>,
  extra: readonly (readonly [string, string])[],
  eventNames: readonly string[] | null,
): Env {
  const env = classEnv(job, jobEnv);
  for (const [k, v] of extra) env[k] = v;
  if (eventNames) env.UPSTART_EVENTS = eventNames.join(" ");
  return env;
}

/** Parse `KEY=VALUE` arguments (`=VALUE` too, as Upstart); null when one has no `=`. */
export function parseAssignments(args: readonly string[]): [string, string][] | null {
  const out: [string, string][] = [];
  for (const arg of args) {
    const i = arg.indexOf("=");
    if (i < 0) return null;
    out.push([arg.slice(0, i), arg.slice(i + 1)]);
  }
  return out;
}

/** Log file of an instance: `JOB.log` or `JOB-INSTANCE.log`, every `/` turned into `_`. */
export function logFileName(job: string, instance: string): string {
  const safe = (s: string) => s.replaceAll("/", "_");
  return instance ? `${safe(job)}-${safe(instance)}.log` : `${safe(job)}.log`;
}
