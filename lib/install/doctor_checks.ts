/**
 * `upkeep doctor`'s judgement: from facts gathered by lib/cli/doctor.ts (socket answer, manifest or
 * boot artifacts found, job-file diagnostics, `status --json`, the daemon log, log-dir probe, `df`)
 * to a list of checks, each ok or a problem, and their text. Pure: no Deno APIs.
 */

/** One line of the report. `warn` is shown but does not fail the doctor. */
export interface Check {
  readonly name: string;
  readonly status: "ok" | "problem" | "warn";
  readonly detail: string;
}

/** The fields of an `initctl status --json` object that doctor reads. */
export interface JobStatus {
  readonly name: string;
  readonly instance?: string;
  readonly goal: string;
  readonly state: string;
  readonly respawns?: number;
  readonly lastExit?: { status?: number; signal?: string } | null;
  readonly health?: { healthy: boolean; failures: number; detail: string } | null;
  /** The daemon's record of the last failure (upkeep), and when it tries again. */
  readonly lastFailure?: { message: string; at: string } | null;
  readonly nextTry?: string | null;
  /** Taken over from an earlier daemon (not a child of this one). */
  readonly adopted?: boolean;
  /** Its log cannot be written (upkeep's log pipeline): why, since when, what was dropped. */
  readonly logError?: {
    message: string;
    since: string;
    droppedLines: number;
    droppedBytes: number;
  } | null;
}

/** Jobs whose log the daemon cannot write (a full disk, a removed directory). */
export function logChecks(jobs: readonly JobStatus[]): Check[] {
  return jobs.filter((j) => j.logError).map((j) => {
    const e = j.logError!;
    return {
      name: `job ${label(j)}`,
      status: "problem" as const,
      detail: `its output cannot be logged: ${e.message} (since ${e.since}; ` +
        `${e.droppedLines} lines dropped so far; the job runs on and writing resumes by itself)`,
    };
  });
}

function label(j: { name: string; instance?: string }): string {
  return j.instance ? `${j.name} (${j.instance})` : j.name;
}

function exitText(e: { status?: number; signal?: string }): string {
  return e.signal !== undefined ? `killed by ${e.signal}` : `exit status ${e.status}`;
}

/**
 * Jobs that are stopped (or waiting for their next try) after failing, with the daemon's words
 * for the failure, jobs whose health check fails, and jobs whose log cannot be written.
 */
export function jobChecks(jobs: readonly JobStatus[]): Check[] {
  const checks: Check[] = logChecks(jobs);
  for (const j of jobs) {
    const name = label(j);
    const stopped = j.goal === "stop";
    const next = j.nextTry ? `; next try at ${j.nextTry}` : "";
    if (j.lastFailure && (stopped || j.nextTry)) {
      checks.push({
        name: `job ${name}`,
        status: "problem",
        detail: `${
          j.lastFailure.message.startsWith("respawning too fast")
            ? "stopped after hitting its respawn limit"
            : stopped
            ? "stopped after failing"
            : "failing"
        }: ${j.lastFailure.message} ` +
          `(at ${j.lastFailure.at}${j.respawns ? `, after ${j.respawns} respawns` : ""})${next}`,
      });
      continue;
    }
    const failed = j.lastExit &&
      (j.lastExit.signal !== undefined || (j.lastExit.status ?? 0) !== 0);
    if (stopped && failed && j.lastExit) {
      checks.push({
        name: `job ${name}`,
        status: "problem",
        detail: `stopped after failing: ${exitText(j.lastExit)}` +
          (j.respawns ? ` after ${j.respawns} respawns` : ""),
      });
    } else if (j.health && !j.health.healthy) {
      checks.push({
        name: `job ${name}`,
        status: "problem",
        detail: `unhealthy: ${j.health.failures} failures: ${j.health.detail}`,
      });
    }
  }
  return checks;
}

/** Disk usage of a file system, from `df -Pk`. */
export interface DiskUsage {
  readonly mount: string;
  readonly usedPercent: number;
  readonly availBytes: number;
  readonly sizeBytes: number;
}

/** Parse `df -Pk PATH` output (POSIX format: one header line, one line per file system). */
export function parseDf(text: string): DiskUsage | null {
  const lines = text.trim().split("\n");
  const fields = lines[lines.length - 1]?.trim().split(/\s+/) ?? [];
  if (lines.length < 2 || fields.length < 6) return null;
  const [, size, , avail, capacity] = fields;
  const usedPercent = Number(capacity?.replace("%", ""));
  if (!Number.isFinite(usedPercent) || !Number.isFinite(Number(size))) return null;
  return {
    mount: fields.slice(5).join(" "),
    usedPercent,
    availBytes: Number(avail) * 1024,
    sizeBytes: Number(size) * 1024,
  };
}

/** The disk is a problem at 90 % used or with less than 100 MiB free. */
export const DISK_FULL_PERCENT = 90;
export const DISK_MIN_FREE_BYTES = 100 * 1024 * 1024;

function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** The log dir check: writable, and how full its disk is. */
export function logDirCheck(
  logDir: string,
  writable: true | string,
  disk: DiskUsage | null,
): Check {
  if (writable !== true) {
    return { name: "log dir", status: "problem", detail: `${logDir} is not writable: ${writable}` };
  }
  if (!disk) {
    return { name: "log dir", status: "warn", detail: `${logDir} writable; disk usage unknown` };
  }
  const usage = `disk ${disk.usedPercent}% used, ${bytes(disk.availBytes)} free on ${disk.mount}`;
  const full = disk.usedPercent >= DISK_FULL_PERCENT || disk.availBytes < DISK_MIN_FREE_BYTES;
  return {
    name: "log dir",
    status: full ? "problem" : "ok",
    detail: `${logDir} writable; ${usage}${full ? " (nearly full: jobs' logs will be lost)" : ""}`,
  };
}

/** Exit status and text of a report: 0 when no check is a problem. */
export function formatReport(checks: readonly Check[]): { code: number; text: string } {
  const problems = checks.filter((c) => c.status === "problem");
  const mark = { ok: "ok     ", warn: "warn   ", problem: "PROBLEM" } as const;
  const lines = checks.map((c) => `${mark[c.status]} ${c.name}: ${c.detail}`);
  lines.push(
    problems.length === 0
      ? "All is well."
      : `${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
        problems.map((p) => `  - ${p.name}: ${p.detail}`).join("\n"),
  );
  return { code: problems.length === 0 ? 0 : 1, text: lines.join("\n") };
}
