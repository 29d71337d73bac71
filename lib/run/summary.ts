/**
 * The outcome of an `upkeep run`: its exit status, the summary line on stderr (or its JSON form),
 * and the back-off between retries. Pure.
 */

import type { ExitStatus } from "../process/spawn.ts";
import { signalNumber } from "../process/signals.ts";

export const EXIT_TIMEOUT = 124;
export const EXIT_LOCKED = 75;
export const EXIT_USAGE = 2;
export const EXIT_CANNOT_EXECUTE = 126;
export const EXIT_NOT_FOUND = 127;

/** How one attempt (pre-start, main, post-stop) ended. */
export type AttemptEnd =
  | { readonly kind: "exited"; readonly status: ExitStatus }
  | { readonly kind: "timeout" }
  | { readonly kind: "spawnFailed"; readonly message: string; readonly code: number }
  | { readonly kind: "interrupted"; readonly signal: string };

/** Shell-style exit status: the code, or 128+N for a death by signal N. */
export function exitCodeOf(status: ExitStatus): number {
  if (status.code !== null) return status.code;
  return 128 + (signalNumber(status.signal ?? "") ?? 0);
}

export function attemptExitCode(end: AttemptEnd): number {
  switch (end.kind) {
    case "exited":
      return exitCodeOf(end.status);
    case "timeout":
      return EXIT_TIMEOUT;
    case "spawnFailed":
      return end.code;
    case "interrupted":
      return 128 + (signalNumber(end.signal) ?? 0);
  }
}

export function succeeded(end: AttemptEnd): boolean {
  return end.kind === "exited" && end.status.code === 0;
}

/** Seconds to wait before retry number `retry` (1-based): base, 2×base, 4×base ..., at most 1 h. */
export function retryDelay(base: number, retry: number): number {
  return Math.min(base * 2 ** Math.max(0, retry - 1), 3600);
}

export interface RunSummary {
  readonly job: string;
  readonly end: AttemptEnd;
  readonly tries: number;
  readonly seconds: number;
  readonly log: string | null;
}

function tries(n: number): string {
  return `${n} ${n === 1 ? "try" : "tries"}`;
}

/** `backup: failed after 2 tries, exit 3, 41.2 s, log: /var/log/upkeep/backup.log` */
export function summaryLine(s: RunSummary): string {
  const code = attemptExitCode(s.end);
  const secs = `${s.seconds.toFixed(1)} s`;
  const log = s.log ? `, log: ${s.log}` : "";
  const e = s.end;
  switch (e.kind) {
    case "exited":
      if (e.status.code === 0) return `${s.job}: ok, ${tries(s.tries)}, ${secs}${log}`;
      return `${s.job}: failed after ${tries(s.tries)}, exit ${code}` +
        `${e.status.signal ? ` (signal ${e.status.signal})` : ""}, ${secs}${log}`;
    case "timeout":
      return `${s.job}: timed out after ${tries(s.tries)}, exit ${code}, ${secs}${log}`;
    case "spawnFailed":
      return `${s.job}: failed after ${tries(s.tries)}, exit ${code} (${e.message}), ${secs}${log}`;
    case "interrupted":
      return `${s.job}: interrupted by ${e.signal} after ${
        tries(s.tries)
      }, exit ${code}, ${secs}${log}`;
  }
}

/** The JSON variant of the summary line (one object, one line). */
export function summaryJson(s: RunSummary): string {
  const e = s.end;
  return JSON.stringify({
    job: s.job,
    result: e.kind === "exited"
      ? (e.status.code === 0 ? "ok" : "failed")
      : e.kind === "spawnFailed"
      ? "failed"
      : e.kind === "timeout"
      ? "timeout"
      : "interrupted",
    exit: attemptExitCode(e),
    signal: e.kind === "exited" ? e.status.signal : e.kind === "interrupted" ? e.signal : null,
    tries: s.tries,
    seconds: Number(s.seconds.toFixed(3)),
    log: s.log,
    ...(e.kind === "spawnFailed" ? { error: e.message } : {}),
  });
}
