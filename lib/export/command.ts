/**
 * Pieces every export target shares: the argv that carries out an `exec` or `script` exactly as
 * upkeep runs it, names that a target accepts, and a few number formats. Pure: no Deno APIs.
 */

import type { JobClass, ProcessSpec } from "../job/model.ts";
import { needsShell, SHELL } from "../process/plan.ts";

/**
 * The argv of a process, as upkeep (and Upstart) runs it: a script under `/bin/sh -e -c`, an exec
 * line with shell characters as `/bin/sh -e -c 'exec LINE'`, any other exec line split on blanks.
 */
export function processArgv(spec: ProcessSpec): string[] {
  if ("script" in spec) return [SHELL, "-e", "-c", spec.script];
  if (needsShell(spec.exec)) return [SHELL, "-e", "-c", `exec ${spec.exec}`];
  return spec.exec.split(/[ \t\r\n]+/).filter(Boolean);
}

/** The job's main process argv, or null for a job without one. */
export function mainArgv(job: JobClass): string[] | null {
  return job.main ? processArgv(job.main) : null;
}

/** `net/apache` -> `net-apache`: a name for unit files and Nomad jobs (`[A-Za-z0-9:_.-]`). */
export function unitName(name: string): string {
  return name.replace(/[^A-Za-z0-9:_.-]+/g, "-").replace(/^-+|-+$/g, "") || "job";
}

/** A DNS-1123 label (lower case, digits, `-`, at most `max` characters) for Kubernetes names. */
export function dnsLabel(name: string, max = 63): string {
  return name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/-+/g, "-").slice(0, max)
    .replace(/^-+|-+$/g, "") || "job";
}

/** Whole seconds for a duration (at least `min`), rounding fractions up. */
export function wholeSeconds(seconds: number, min = 0): number {
  return Math.max(min, Math.ceil(seconds - 1e-9));
}

/** A duration in systemd's and Nomad's words: `90s`, `500ms`, `1.5s`. */
export function durationText(seconds: number): string {
  if (seconds > 0 && seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  return `${Number(seconds.toFixed(3))}s`;
}

/**
 * The instance variable of an `instance $VAR` / `instance ${VAR}` template; null for a template
 * made of anything else (several variables, literal text).
 */
export function instanceVariable(template: string): string | null {
  const m = /^\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})$/.exec(template);
  return m ? (m[1] ?? m[2]!) : null;
}

/** Signal name with `SIG` (`SIGTERM`); a number stays a number. */
export function sigName(signal: string): string {
  return /^\d+$/.test(signal) ? signal : `SIG${signal}`;
}

/** Exit statuses and signals of `normal exit`, as text (`0 TERM` -> ["0", "SIGTERM"]). */
export function normalExitWords(job: JobClass): string[] {
  return job.normalExit.map((v) => typeof v === "number" ? String(v) : `SIG${v}`);
}

/** Bytes as a Kubernetes quantity: `512Mi` when exact, else plain bytes. */
export function bytesQuantity(bytes: number): string {
  for (const [unit, size] of [["Ti", 1024 ** 4], ["Gi", 1024 ** 3], ["Mi", 1024 ** 2]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024}Ki`;
  return String(bytes);
}
