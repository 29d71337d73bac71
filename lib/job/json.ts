/**
 * The public JSON form of a job (`check-config --json`, documented in docs/job-json.md): the job
 * model with `startOn`/`stopOn` in normal form and the main process split into `exec`/`script`.
 * Pure: no Deno APIs.
 */

import { JOB_LOG_DEFAULTS, type JobClass, type ProcessSpec } from "./model.ts";
import { formatEventExpr } from "../events/print.ts";

function processJson(p: ProcessSpec | null): Record<string, string> | null {
  if (!p) return null;
  return "exec" in p ? { exec: p.exec } : { script: p.script };
}

/** The job as the JSON object `check-config --json` prints. Key order is stable. */
export function jobToJson(job: JobClass): Record<string, unknown> {
  return {
    name: job.name,
    description: job.description,
    author: job.author,
    version: job.version,
    usage: job.usage,
    emits: [...job.emits],
    startOn: job.startOn ? formatEventExpr(job.startOn) : null,
    stopOn: job.stopOn ? formatEventExpr(job.stopOn) : null,
    manual: job.manual,
    exec: job.main && "exec" in job.main ? job.main.exec : null,
    script: job.main && "script" in job.main ? job.main.script : null,
    preStart: processJson(job.preStart),
    postStart: processJson(job.postStart),
    preStop: processJson(job.preStop),
    postStop: processJson(job.postStop),
    task: job.task,
    instance: job.instance,
    respawn: job.respawn,
    respawnLimit: job.respawnLimit === "unlimited" ? "unlimited" : { ...job.respawnLimit },
    normalExit: [...job.normalExit],
    expect: job.expect,
    killSignal: job.killSignal,
    killTimeout: job.killTimeout,
    reloadSignal: job.reloadSignal,
    console: job.console,
    env: { ...job.env },
    export: [...job.export],
    chdir: job.chdir,
    chroot: job.chroot,
    setuid: job.setuid,
    setgid: job.setgid,
    umask: job.umask,
    nice: job.nice,
    limits: Object.fromEntries(
      Object.entries(job.limits).map(([k, v]) => [k, { soft: v.soft, hard: v.hard }]),
    ),
    oomScore: job.oomScore,
    apparmorLoad: job.apparmorLoad,
    apparmorSwitch: job.apparmorSwitch,
    cgroups: job.cgroups.map((c) => ({ ...c })),
    respawnDelay: job.respawnDelay ? { ...job.respawnDelay } : null,
    respawnRetry: job.respawnRetry,
    health: job.health
      ? {
        checks: job.health.checks.map((c) => ({ ...c })),
        interval: job.health.interval,
        timeout: job.health.timeout,
        retries: job.health.retries,
        grace: job.health.grace,
        memory: job.health.memory,
      }
      : null,
    log: { ...(job.log ?? JOB_LOG_DEFAULTS) },
  };
}
