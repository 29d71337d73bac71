/**
 * `exportAll`: jobs and cron runs in, the files of one target and every note and error out.
 * Files come sorted by path and each file's bytes depend only on the input, so an export can be
 * committed and diffed. A job file that a crontab line runs is exported once, as that cron run.
 * Two inputs that would write the same file are an error. Pure: no Deno APIs.
 */

import type { Diagnostic } from "../job/model.ts";
import type { UserDb } from "../process/users.ts";
import type {
  CronRun,
  ExportFile,
  ExportNote,
  ExportTarget,
  JobSource,
  MappedUnit,
} from "./model.ts";
import { systemdCron, systemdJob } from "./systemd.ts";
import { kubernetesCron, kubernetesJob } from "./kubernetes.ts";
import { nomadCron, nomadJob } from "./nomad.ts";

export interface ExportOptions {
  readonly target: ExportTarget;
  /** systemd version the units are for (`RestartSteps=` needs 254); default 254. */
  readonly systemdVersion?: number;
  /** Kubernetes image for every job (`--image IMAGE`), and per job (`--image JOB=IMAGE`). */
  readonly image?: string | null;
  readonly images?: Readonly<Record<string, string>>;
  /** Resolves setuid/setgid names for Kubernetes (numbers only when absent). */
  readonly users?: UserDb | null;
  readonly nomadDriver?: "raw_exec" | "exec";
}

export interface ExportInput {
  readonly jobs: readonly JobSource[];
  readonly cron: readonly CronRun[];
}

export interface ExportResult {
  readonly files: ExportFile[];
  readonly notes: ExportNote[];
  readonly errors: Diagnostic[];
}

type Mapper<T> = (x: T) => MappedUnit | { error: string };

/** Export every job and cron run to one target. */
export function exportAll(input: ExportInput, opts: ExportOptions): ExportResult {
  const files: ExportFile[] = [];
  const notes: ExportNote[] = [];
  const errors: Diagnostic[] = [];
  const tasks = new Set(input.jobs.filter((j) => j.job.task).map((j) => j.job.name));
  const image = (name: string) => opts.images?.[name] ?? opts.image ?? null;
  const k8s = { image, users: opts.users ?? null };
  const nomad = { driver: opts.nomadDriver ?? "raw_exec" } as const;
  const systemd = { tasks, version: opts.systemdVersion ?? 254 };
  const [forJob, forCron]: [Mapper<JobSource>, Mapper<CronRun>] = opts.target === "systemd"
    ? [(j) => systemdJob(j, systemd), (c) => systemdCron(c, systemd)]
    : opts.target === "kubernetes"
    ? [(j) => kubernetesJob(j, k8s), (c) => kubernetesCron(c, k8s)]
    : [(j) => nomadJob(j, nomad), (c) => nomadCron(c, nomad)];

  const cronFiles = new Map<string, CronRun>();
  const key = (j: JobSource) => j.realPath ?? j.job.file;
  for (const c of input.cron) if (c.source) cronFiles.set(key(c.source), c);
  const take = (r: MappedUnit | { error: string }, file: string, line: number) => {
    if ("error" in r) {
      errors.push({ file, line, message: r.error, severity: "error" });
      return;
    }
    files.push(...r.files);
    notes.push(...r.notes);
  };
  for (const j of input.jobs) {
    const run = cronFiles.get(key(j));
    if (run) {
      notes.push({
        job: j.job.name,
        file: j.job.file,
        line: 0,
        stanza: "",
        severity: j.job.startOn ? "warning" : "info",
        message: `exported as the cron run of ${run.file}:${run.line}` +
          (j.job.startOn ? "; its 'start on' is dropped" : ""),
      });
      continue;
    }
    take(forJob(j), j.job.file, 0);
  }
  for (const c of input.cron) take(forCron(c), c.file, c.line);

  const byPath = new Map<string, ExportFile>();
  for (const f of files) {
    const other = byPath.get(f.path);
    if (other) {
      errors.push({
        file: f.source,
        line: 0,
        message: `'${f.path}' would be written for both ${other.source} and ${f.source}`,
        severity: "error",
      });
    }
    byPath.set(f.path, f);
  }
  const sorted = [...byPath.values()].sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0
  );
  return { files: sorted, notes, errors };
}
