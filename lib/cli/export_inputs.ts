/**
 * Reading what `upkeep export` exports: job files named by path, directory or job name (looked up
 * in the conf dir), each with its `.override`, and crontabs whose `upkeep run` lines name a job
 * file or a command. Never throws: unreadable files and parse errors become diagnostics.
 */

import type { Diagnostic } from "../job/model.ts";
import { collectJobFiles, fileExists, loadJobFile, readJobText } from "../job/load.ts";
import type { CronRun, ExportNote, JobSource } from "../export/model.ts";
import { parseCrontab } from "../export/crontab.ts";

export interface Inputs {
  readonly jobs: JobSource[];
  readonly cron: CronRun[];
  readonly errors: Diagnostic[];
  /** Parser warnings and crontab lines that were skipped. */
  readonly notes: ExportNote[];
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function realPath(path: string): string | undefined {
  try {
    return Deno.realPathSync(path);
  } catch {
    return undefined;
  }
}

function warningNote(d: Diagnostic, job: string): ExportNote {
  return { job, file: d.file, line: d.line, stanza: "", severity: "warning", message: d.message };
}

/** Jobs from paths (files, directories) or names of jobs in `confDir`. */
export function readJobs(args: readonly string[], confDir: string, out: Inputs): void {
  const paths: string[] = [];
  for (const a of args) {
    if (exists(a)) paths.push(a);
    else if (/^[^/.\s][^\s]*$/.test(a) && fileExists(`${confDir}/${a}.conf`)) {
      const r = loadJobFile(`${confDir}/${a}.conf`, a);
      addJob(r, a, out);
    } else {
      out.errors.push({
        file: a,
        line: 0,
        message: `No such file, directory or job in ${confDir}`,
        severity: "error",
      });
    }
  }
  const { confs, orphans, diagnostics } = collectJobFiles(paths);
  out.errors.push(...diagnostics);
  for (const o of orphans) {
    out.notes.push({
      job: "",
      file: o,
      line: 0,
      stanza: "",
      severity: "info",
      message: "override file ignored: no .conf file beside it",
    });
  }
  for (const ref of confs) addJob(loadJobFile(ref.path, ref.name), ref.name, out);
}

function addJob(r: ReturnType<typeof loadJobFile>, name: string, out: Inputs): void {
  for (const d of r.diagnostics) {
    if (d.severity === "error") out.errors.push(d);
    else out.notes.push(warningNote(d, name));
  }
  if (r.job) {
    out.jobs.push({ job: r.job, stanzas: r.stanzas ?? [], realPath: realPath(r.job.file) });
  }
}

const base = (p: string) => p.slice(p.lastIndexOf("/") + 1);

/** The `upkeep run` lines of a crontab file; `cronUser` for lines without a user field. */
export function readCrontab(path: string, cronUser: string | null, out: Inputs): void {
  const readErrors: Diagnostic[] = [];
  const text = readJobText(path, readErrors);
  out.errors.push(...readErrors);
  if (text === null) return;
  const parsed = parseCrontab(text, path);
  out.errors.push(...parsed.errors);
  for (const s of parsed.skipped) {
    out.notes.push({
      job: "",
      file: s.file,
      line: s.line,
      stanza: "crontab",
      severity: s.reason.startsWith("not an") ? "info" : "warning",
      message: `skipped: ${s.reason}`,
    });
  }
  for (const line of parsed.lines) {
    const o = line.options;
    let source: JobSource | null = null;
    let name: string;
    if (o.jobFile !== null) {
      const r = loadJobFile(o.jobFile, o.name ?? undefined);
      const errors = r.diagnostics.filter((d) => d.severity === "error");
      if (!r.job) {
        out.errors.push(
          ...(errors.length ? errors : [{
            file: line.file,
            line: line.line,
            message: `cannot read '${o.jobFile}'`,
            severity: "error" as const,
          }]),
        );
        continue;
      }
      source = { job: r.job, stanzas: r.stanzas ?? [], realPath: realPath(r.job.file) };
      name = o.name ?? r.job.name;
    } else {
      name = o.name ?? (base(o.command[0] ?? "") || "command");
    }
    out.cron.push({
      name,
      file: line.file,
      line: line.line,
      schedule: line.schedule,
      user: line.user ?? cronUser,
      env: line.env,
      options: o,
      source,
    });
    if (line.redirections.length) {
      out.notes.push({
        job: name,
        file: line.file,
        line: line.line,
        stanza: "command",
        severity: "info",
        message: `redirection dropped: ${
          line.redirections.join(" ")
        } (output goes to the target's logs)`,
      });
    }
  }
}
