/**
 * Export to Nomad: one job per job file (type `service`, or `batch` for a task) with `raw_exec`
 * (or `exec`) tasks: the main process, and pre-start / post-start / post-stop as lifecycle tasks;
 * `restart` and `reschedule` from respawn, respawn limit, delay and retry; health checks as
 * service checks with `check_restart`; and a periodic batch job per `upkeep run` cron line.
 * Written as HCL and as API JSON. Pure: no Deno APIs.
 */

import type { Health, JobClass } from "../job/model.ts";
import { dnsLabel, instanceVariable, processArgv, sigName, unitName } from "./command.ts";
import type { CronRun, JobSource, MappedUnit, Notes } from "./model.ts";
import { notesFor } from "./model.ts";
import { commonNotes, conditionNotes, cronOptionNotes, noteComments } from "./shared_notes.ts";
import {
  nomadApiJson,
  type NomadCheck,
  nomadHcl,
  type NomadJob,
  type NomadTask,
} from "./nomad_render.ts";
import { nomadStanzaNotes } from "./nomad_notes.ts";

export interface NomadOptions {
  readonly driver: "raw_exec" | "exec";
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MIN_RESTART_INTERVAL = 5;
const MIN_RESCHEDULE_DELAY = 5;

/** command and args for an argv: a bare program name goes through `/usr/bin/env` (PATH lookup). */
function commandOf(
  argv: readonly string[],
  chdir: string | null,
): { command: string; args: string[] } {
  let a = [...argv];
  if (chdir !== null) {
    a = ["/bin/sh", "-c", 'cd "$1" || exit 1; shift; exec "$@"', "upkeep-chdir", chdir, ...a];
  }
  if (!a[0]!.startsWith("/")) a = ["/usr/bin/env", ...a];
  return { command: a[0]!, args: a.slice(1) };
}

function envOf(
  job: JobClass | null,
  name: string,
  extra: Readonly<Record<string, string>>,
  notes: Notes,
) {
  const env: [string, string][] = [["UPSTART_JOB", job?.name ?? name]];
  const v = job ? instanceVariable(job.instance) : null;
  if (job?.instance) {
    env.push(["UPSTART_INSTANCE", "${NOMAD_ALLOC_INDEX}"]);
    if (v && !(v in job.env)) env.push([v, "${NOMAD_ALLOC_INDEX}"]);
    notes.info(
      "instance",
      `instances are the group's allocations: $${
        v ?? "UPSTART_INSTANCE"
      } is the allocation index; raise count for more`,
    );
    if (!v) {
      notes.warn("instance", `'${job.instance}': only the allocation index names an instance`);
    }
  }
  for (const [k, val] of Object.entries({ ...(job?.env ?? {}), ...extra })) {
    if (ENV_KEY.test(k)) env.push([k, val]);
    else notes.warn("env", `'${k}' is not a name Nomad's env block takes`);
  }
  return env;
}

/** Service checks from health stanzas, with the static ports they need. */
function checksOf(h: Health, respawn: boolean, notes: Notes) {
  const ports: { label: string; value: number }[] = [];
  const checks: NomadCheck[] = [];
  const seen: Record<string, number> = {};
  const grace = h.grace > 0 ? h.grace : h.interval;
  const restart = respawn ? { limit: h.retries, grace } : undefined;
  const port = (p: number) => {
    const label = `health_${p}`;
    if (!ports.some((x) => x.value === p)) ports.push({ label, value: p });
    return label;
  };
  for (const c of h.checks) {
    const nth = seen[c.type] = (seen[c.type] ?? -1) + 1;
    const base = {
      name: `${c.type}-${nth}`,
      interval: h.interval,
      timeout: h.timeout,
      checkRestart: restart,
    };
    if (c.type === "http") {
      const u = new URL(c.url);
      const p = u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80;
      checks.push({
        ...base,
        type: "http",
        path: `${u.pathname}${u.search}`,
        protocol: u.protocol === "https:" ? "https" : "http",
        portLabel: port(p),
      });
      notes.info(
        `health http`,
        `checked on the allocation's address and static port ${p}, not ${u.hostname}`,
        nth,
      );
    } else if (c.type === "tcp") {
      checks.push({ ...base, type: "tcp", portLabel: port(c.port) });
      notes.info(
        `health tcp`,
        `checked on the allocation's address and static port ${c.port}, not ${c.host}`,
        nth,
      );
    } else {
      checks.push({ ...base, type: "script", command: "/bin/sh", args: ["-c", c.command] });
    }
  }
  if (h.checks.some((c) => c.type === "exec")) {
    notes.info("health exec", "script checks need the Consul service provider", 0);
  }
  if (!respawn && h.checks.length) {
    notes.info("health", "no 'respawn': checks are reported, no check_restart (as upkeep does)");
  }
  const provider: "nomad" | "consul" = h.checks.some((c) => c.type === "exec") ? "consul" : "nomad";
  return { ports, checks, provider };
}

function restartOf(job: JobClass, notes: Notes): NomadJob["group"]["restart"] {
  if (!job.respawn) return { attempts: 0, interval: 1800, delay: 15, mode: "fail" };
  const delay = job.respawnDelay?.min ?? 0;
  if (job.respawnLimit === "unlimited") {
    notes.info(
      "respawn limit",
      "unlimited: at most 10 restarts per interval, then it waits for the interval",
    );
    return {
      attempts: 10,
      interval: Math.max(MIN_RESTART_INTERVAL, 10 * delay),
      delay,
      mode: "delay",
    };
  }
  const { count, interval } = job.respawnLimit;
  const minInterval = Math.max(MIN_RESTART_INTERVAL, count * delay);
  if (interval < minInterval) {
    notes.info(
      "respawn limit",
      `interval raised to ${minInterval}s: Nomad's least for ${count} restarts ${delay}s apart`,
    );
  }
  return { attempts: count, interval: Math.max(interval, minInterval), delay, mode: "fail" };
}

function rescheduleOf(job: JobClass, notes: Notes): NomadJob["group"]["reschedule"] {
  if (!job.respawn || job.respawnRetry === null) return { unlimited: false };
  if (job.respawnRetry < MIN_RESCHEDULE_DELAY) {
    notes.info(
      "respawn retry",
      `raised to ${MIN_RESCHEDULE_DELAY}s, Nomad's least reschedule delay`,
    );
  }
  return { unlimited: true, delay: Math.max(MIN_RESCHEDULE_DELAY, job.respawnRetry) };
}

function files(id: string, what: string, file: string, notes: Notes, job: NomadJob): MappedUnit {
  const comments = [`Exported by upkeep export from ${what}.`, ...noteComments(notes.list, file)];
  return {
    files: [
      { path: `${id}.nomad.hcl`, job: notes.job, source: what, content: nomadHcl(job, comments) },
      {
        path: `${id}.nomad.json`,
        job: notes.job,
        source: what,
        content: JSON.stringify(nomadApiJson(job), null, 2) + "\n",
        data: job,
      },
    ],
    notes: notes.list,
  };
}

interface TaskInput {
  readonly job: JobClass | null;
  readonly env: readonly (readonly [string, string])[];
  readonly opts: NomadOptions;
  readonly killSignal: string;
  readonly killTimeout: number;
}

function task(
  t: TaskInput,
  name: string,
  argv: readonly string[],
  hook?: NomadTask["hook"],
): NomadTask {
  return {
    name,
    driver: t.opts.driver,
    hook,
    user: t.job?.setuid ?? undefined,
    ...commandOf(argv, t.job?.chdir ?? null),
    env: t.env,
    killTimeout: t.killTimeout,
    killSignal: sigName(t.killSignal),
  };
}

/** The Nomad job of one job file. */
export function nomadJob(src: JobSource, opts: NomadOptions): MappedUnit | { error: string } {
  const { job } = src;
  const notes = notesFor(src, job.name);
  const id = unitName(job.name);
  commonNotes(job, notes, "nomad");
  const batch = job.task || !job.main;
  nomadStanzaNotes(job, notes, opts.driver, batch);
  conditionNotes(job, notes, batch, "nomad");
  const mainArgv = job.main
    ? processArgv(job.main)
    : job.preStart
    ? processArgv(job.preStart)
    : null;
  if (!mainArgv) return { error: `'${job.name}' has neither a main process nor a pre-start` };
  const t: TaskInput = {
    job,
    env: envOf(job, id, {}, notes),
    opts,
    killSignal: job.killSignal,
    killTimeout: job.killTimeout,
  };
  const main = task(t, id, mainArgv);
  const tasks: NomadTask[] = [];
  if (job.preStart && job.main) {
    tasks.push(task(t, "pre-start", processArgv(job.preStart), "prestart"));
  }
  let ports: { label: string; value: number }[] = [];
  let memoryMB: number | undefined;
  if (job.health && !batch) {
    const c = checksOf(job.health, job.respawn, notes);
    ports = c.ports;
    if (c.checks.length) {
      Object.assign(main, {
        service: { name: dnsLabel(job.name), provider: c.provider, checks: c.checks },
      });
    }
  }
  if (job.health?.memory != null) {
    memoryMB = Math.ceil(job.health.memory / 1024 ** 2);
    notes.info(
      "health memory",
      `memory = ${memoryMB} MB: a cgroup limit with the exec driver, a reservation with raw_exec`,
    );
  }
  tasks.push(memoryMB === undefined ? main : { ...main, memoryMB });
  if (job.postStart && !batch) {
    tasks.push(task(t, "post-start", processArgv(job.postStart), "poststart"));
  }
  if (job.postStop) tasks.push(task(t, "post-stop", processArgv(job.postStop), "poststop"));
  const restart = batch
    ? {
      attempts: job.respawn && job.respawnLimit !== "unlimited" ? job.respawnLimit.count : 0,
      interval: 86400,
      delay: job.respawnDelay?.min ?? 0,
      mode: "fail" as const,
    }
    : restartOf(job, notes);
  return files(id, job.file, job.file, notes, {
    id,
    type: batch ? "batch" : "service",
    group: {
      name: id,
      count: job.startOn ? 1 : 0,
      ports,
      restart,
      reschedule: rescheduleOf(job, notes),
      tasks,
    },
  });
}

/** The periodic batch job of one `upkeep run` cron line. */
export function nomadCron(run: CronRun, opts: NomadOptions): MappedUnit | { error: string } {
  const notes = notesFor(run.source, run.name, run);
  const where = `${run.file}:${run.line}`;
  const o = run.options;
  const job = run.source?.job ?? null;
  const id = unitName(run.name);
  if (run.schedule.kind === "reboot") return { error: "Nomad has no @reboot schedule" };
  if (job) {
    commonNotes(job, notes, "nomad", true);
    nomadStanzaNotes(job, notes, opts.driver, true);
  }
  let argv = job
    ? (job.main ? processArgv(job.main) : job.preStart ? processArgv(job.preStart) : null)
    : [...o.command];
  if (!argv) return { error: `'${run.name}' has neither a main process nor a pre-start` };
  const killSignal = o.killSignal ?? job?.killSignal ?? "TERM";
  const killTimeout = o.killTimeout ?? job?.killTimeout ?? 5;
  if (o.timeout !== null) {
    argv = [
      "timeout",
      `--signal=${killSignal}`,
      `--kill-after=${killTimeout}s`,
      `${o.timeout}s`,
      ...argv,
    ];
    notes.info("--timeout", "Nomad has no run deadline: timeout(1) ends the run (exit 124)");
  }
  const cronEnv = Object.fromEntries(
    Object.entries(run.env).filter(([k]) => !["MAILTO", "CRON_TZ", "SHELL"].includes(k)),
  );
  const t: TaskInput = {
    job,
    env: envOf(job, run.name, cronEnv, notes),
    opts,
    killSignal,
    killTimeout,
  };
  const tasks: NomadTask[] = [];
  if (job?.preStart && job.main) {
    tasks.push(task(t, "pre-start", processArgv(job.preStart), "prestart"));
  }
  tasks.push(task(t, id, argv));
  if (job?.postStop) tasks.push(task(t, "post-stop", processArgv(job.postStop), "poststop"));
  if (o.retries > 0) {
    notes.info("--retry-delay", "Nomad waits the same delay before every try (no doubling)");
  }
  cronOptionNotes(run, notes, "nomad");
  const delay = o.retries > 0 ? o.retryDelay : 0;
  return files(id, where, job?.file ?? run.file, notes, {
    id,
    type: "batch",
    periodic: {
      cron: run.schedule.text,
      prohibitOverlap: o.noOverlap,
      timeZone: run.env.CRON_TZ,
    },
    group: {
      name: id,
      count: 1,
      ports: [],
      restart: {
        attempts: o.retries,
        interval: Math.max(MIN_RESTART_INTERVAL, 86400, o.retries * delay),
        delay,
        mode: "fail",
      },
      reschedule: { unlimited: false },
      tasks,
    },
  });
}
