/**
 * Notes every target gives alike: stanzas that none of systemd, Kubernetes and Nomad can carry
 * (`export`, `cgroup`, `apparmor load`, `env KEY` without a value...), the informational ones, the
 * notes about `upkeep run` options, and notes as comment lines for the exported files.
 * Pure: no Deno APIs.
 */

import type { JobClass } from "../job/model.ts";
import { formatEventExpr } from "../events/print.ts";
import { analyzeCondition, stopsAtShutdown } from "./events.ts";
import type { CronRun, ExportNote, ExportTarget, Notes } from "./model.ts";

const TARGET_NAMES: Readonly<Record<ExportTarget, string>> = {
  systemd: "systemd",
  kubernetes: "Kubernetes",
  nomad: "Nomad",
};

/**
 * Notes about stanzas no target carries. `cron`: the job runs under `upkeep run`, which itself
 * ignores `start on`, `stop on`, `respawn...`, `instance`, `post-start`, `pre-stop` and health.
 */
export function commonNotes(job: JobClass, notes: Notes, target: ExportTarget, cron = false): void {
  const t = TARGET_NAMES[target];
  if (job.emits.length) notes.info("emits", "informational only (which events the job emits)");
  if (job.export.length) {
    notes.warn("export", `${t} has no Upstart events to carry '${job.export.join(" ")}' in`);
  }
  for (const k of ["author", "version", "usage"] as const) {
    if (job[k] !== null) notes.info(k, "informational only");
  }
  if (job.debug) notes.info("debug", "no effect in upkeep either");
  if (job.apparmorLoad !== null) {
    notes.warn(
      "apparmor load",
      `${t} does not load AppArmor profiles: load '${job.apparmorLoad}' beforehand`,
    );
  }
  job.cgroups.forEach((c, i) => {
    notes.warn(
      "cgroup",
      `'${c.controller}' settings are Upstart cgroup v1 ones: set ${t}'s own resource limits`,
      i,
    );
  });
  notes.stanzas.forEach((s) => {
    if (s.keyword === "env" && !s.word.includes("=")) {
      notes.warn("env", `'env ${s.word}' copies upkeep's own environment: set the value in ${t}`);
    }
  });
  if (cron) {
    if (job.postStart) notes.info("post-start", "upkeep run does not run post-start either");
    if (job.preStop) notes.info("pre-stop", "upkeep run does not run pre-stop either");
  }
}

/** Number of doublings from `min` to `max` (systemd's `RestartSteps=`), 0 when none. */
export function respawnDelaySteps(min: number, max: number): number {
  if (!(min > 0) || !(max > min)) return 0;
  return Math.max(1, Math.ceil(Math.log2(max / min) - 1e-9));
}

/** Notes about `upkeep run` options that every target treats alike. */
export function cronOptionNotes(run: CronRun, notes: Notes, target: ExportTarget): void {
  const o = run.options;
  const t = TARGET_NAMES[target];
  if (o.lockFile !== null) {
    notes.warn(
      "--lock",
      `the lock file '${o.lockFile}' is not taken: runs of other jobs sharing it may overlap`,
    );
  }
  if (o.waitLock) {
    notes.warn("--wait-lock", `${t} skips a run while the last one still goes, it does not wait`);
  }
  if (o.log !== null || o.logDir !== null || o.noLog || o.tee) {
    notes.info("--log", `output goes to ${t}'s logs instead of a log file`);
  }
  if (o.quietSuccess || o.json) {
    notes.info("--quiet-success", `no mail and no summary line: see ${t}'s logs`);
  }
  if (run.env.MAILTO !== undefined) notes.info("command", "MAILTO: cron's mail is not sent");
  if (run.user !== null && target !== "systemd") {
    notes.info(
      "command",
      `runs as the job's setuid user, if any, not as crontab user '${run.user}'`,
    );
  }
}

/** Notes as comment lines for the top of an exported file. */
export function noteComments(list: readonly ExportNote[], file: string): string[] {
  if (!list.length) return [];
  const out = ["", "Notes (what the target cannot express, or expresses differently):"];
  for (const n of list) {
    const at = n.line > 0 ? (n.file === file ? ` (line ${n.line})` : ` (${n.file}:${n.line})`) : "";
    out.push(`  ${n.severity}: ${n.stanza}${at}: ${n.message}`);
  }
  return out;
}

/**
 * Notes about `start on` / `stop on` (and `manual`) for an orchestrator, which runs what it is
 * given: boot-time conditions need nothing, other events and job relations are lost.
 */
export function conditionNotes(
  job: JobClass,
  notes: Notes,
  batch: boolean,
  target: "kubernetes" | "nomad",
): void {
  const engine = TARGET_NAMES[target];
  const applied = target === "kubernetes" ? "applied" : "run";
  if (!job.startOn) {
    notes.info(
      job.manual ? "manual" : "start on",
      batch
        ? `no 'start on': it runs once when ${applied}`
        : target === "kubernetes"
        ? "no 'start on': replicas 0; start it with kubectl scale --replicas=1"
        : "no 'start on': count 0; start it with nomad job scale",
    );
  } else {
    const c = analyzeCondition(job.startOn, formatEventExpr(job.startOn));
    for (const t of c.triggers) {
      if (
        t.kind === "runlevel" || t.kind === "startup" || t.kind === "filesystem" ||
        t.kind === "network" || t.kind === "mounted"
      ) {
        continue;
      }
      const what = t.kind === "job" ? `'${t.relation} ${t.job}'` : `event '${t.text}'`;
      notes.warn(
        "start on",
        `${what}: ${engine} does not order workloads by events; it starts when ${applied}`,
      );
    }
  }
  if (job.stopOn) {
    const c = analyzeCondition(job.stopOn, formatEventExpr(job.stopOn));
    for (const t of c.triggers) {
      if (t.kind === "runlevel" && stopsAtShutdown(t.levels)) continue;
      const what = t.kind === "job"
        ? `'${t.relation} ${t.job}'`
        : t.kind === "unknown"
        ? `event '${t.text}'`
        : `'${t.kind}'`;
      notes.warn("stop on", `${what}: ${engine} has no events to stop a workload on`);
    }
  }
}
