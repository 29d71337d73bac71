/**
 * Loading and reloading the job files into the supervisor: only files that changed are read and
 * parsed again (a stat-keyed cache), a file that stops parsing keeps its job's last good
 * definition (a typo never stops a running job), and each file's diagnostics are logged once per
 * change: the first one, as Upstart logs it, and a count of the others (a file with 100,000 bad
 * lines costs two log lines, once).
 */

import { type LoadCache, loadConfDirs } from "../job/load.ts";
import { type Diagnostic, formatDiagnostic, type JobClass } from "../job/model.ts";
import { PARSE_MSG } from "../job/stanzas.ts";
import type { Supervisor } from "./supervisor.ts";

/**
 * Diagnostics logged per file, as Upstart's init logs them (it stops at a file's first error); the
 * rest are counted in one more line that points to `upkeep check-config`.
 */
export const MAX_LOGGED_PER_FILE = 1;

export class ConfigReloader {
  readonly #cache: LoadCache = new Map();
  /** What was last logged for each file with diagnostics. */
  #logged = new Map<string, string>();

  constructor(
    readonly confDirs: readonly string[],
    private readonly env: Readonly<Record<string, string>>,
    private readonly log: (message: string) => void,
  ) {}

  /**
   * Read the conf dirs and hand the jobs to the supervisor; returns how many there are. Job files
   * in `unsettled` are being written: their jobs stay as they are (see loadConfDirs).
   */
  reload(supervisor: Supervisor, unsettled?: ReadonlySet<string>): number {
    const result = loadConfDirs(this.confDirs, this.env, this.#cache, undefined, unsettled);
    this.#logDiagnostics(result.diagnostics);
    const jobs = new Map<string, JobClass>(result.jobs);
    for (const d of result.diagnostics) {
      if (d.severity !== "error") continue;
      const name = jobNameOf(d.file, this.confDirs);
      const old = name ? supervisor.classes.get(name) : undefined;
      if (name && old && !jobs.has(name) && fileExists(d.file)) {
        jobs.set(name, old.pending ?? old.job);
      }
    }
    supervisor.setJobs(jobs);
    return jobs.size;
  }

  #logDiagnostics(diagnostics: readonly Diagnostic[]): void {
    const byFile = new Map<string, Diagnostic[]>();
    for (const d of diagnostics) {
      const list = byFile.get(d.file);
      if (list) list.push(d);
      else byFile.set(d.file, [d]);
    }
    const logged = new Map<string, string>();
    for (const [file, list] of byFile) {
      const signature = list.map((d) => `${d.line}:${d.message}`).join("\n");
      logged.set(file, signature);
      if (this.#logged.get(file) === signature) continue;
      for (const d of list.slice(0, MAX_LOGGED_PER_FILE)) this.log(daemonLine(d));
      if (list.length > MAX_LOGGED_PER_FILE) {
        this.log(
          `${file}: ${list.length - MAX_LOGGED_PER_FILE} more problems not logged ` +
            `(upkeep check-config ${file} lists them)`,
        );
      }
    }
    this.#logged = logged;
  }
}

/**
 * A diagnostic as the daemon logs it: `FILE:LINE: MESSAGE`, except for a bad signal, which
 * Upstart's init reports without a line (`FILE: Error while loading configuration file: ...`).
 */
export function daemonLine(d: Diagnostic): string {
  return d.message === PARSE_MSG.illegalSignal
    ? `${d.file}: Error while loading configuration file: ${d.message}`
    : formatDiagnostic(d);
}

/** The job a conf or override file defines, by its path under one of the conf dirs. */
function jobNameOf(file: string, confDirs: readonly string[]): string | null {
  for (const dir of confDirs) {
    const rel = file.startsWith(`${dir}/`) ? file.slice(dir.length + 1) : "../";
    if (!rel.startsWith("..") && rel.endsWith(".conf")) return rel.slice(0, -5);
    if (!rel.startsWith("..") && rel.endsWith(".override")) return rel.slice(0, -9);
  }
  return null;
}

function fileExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
