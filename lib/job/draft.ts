/**
 * The mutable job being built while a file is parsed, and the context stanza handlers get.
 * Pure: no Deno APIs.
 */

import type { Cgroup, HealthCheck, JobClass, Limit, LimitResource, NormalExit } from "./model.ts";
import type { Cursor, LexError } from "./lexer.ts";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface HealthDraft {
  checks: HealthCheck[];
  interval: number;
  timeout: number;
  retries: number;
  grace: number;
  memory: number | null;
}

type Collections =
  | "env"
  | "envUnset"
  | "emits"
  | "export"
  | "normalExit"
  | "limits"
  | "cgroups"
  | "health";

export interface Draft extends Omit<Mutable<JobClass>, Collections> {
  env: Record<string, string>;
  envUnset: string[];
  emits: string[];
  export: string[];
  normalExit: NormalExit[];
  limits: Partial<Record<LimitResource, Limit>>;
  cgroups: Cgroup[];
  health: HealthDraft | null;
}

/** A mutable copy of a job (its collections copied too). */
export function toDraft(job: JobClass): Draft {
  return {
    ...job,
    env: { ...job.env },
    envUnset: [...job.envUnset],
    emits: [...job.emits],
    export: [...job.export],
    normalExit: [...job.normalExit],
    limits: { ...job.limits },
    cgroups: [...job.cgroups],
    health: job.health ? { ...job.health, checks: [...job.health.checks] } : null,
  };
}

/** The finished, frozen job. */
export function freezeDraft(d: Draft): JobClass {
  const health = d.health
    ? Object.freeze({ ...d.health, checks: Object.freeze([...d.health.checks]) })
    : null;
  return Object.freeze({
    ...d,
    env: Object.freeze({ ...d.env }),
    envUnset: Object.freeze([...d.envUnset]),
    emits: Object.freeze([...d.emits]),
    export: Object.freeze([...d.export]),
    normalExit: Object.freeze([...d.normalExit]),
    limits: Object.freeze({ ...d.limits }),
    cgroups: Object.freeze([...d.cgroups]),
    health,
  });
}

/** What a stanza handler works with. */
export interface StanzaContext {
  readonly c: Cursor;
  readonly job: Draft;
  /** Line of the stanza keyword. */
  readonly line: number;
  /** init's environment, for `env KEY`. */
  readonly env: Readonly<Record<string, string>>;
  readonly upstartOnly: boolean;
  warn(message: string, line: number): void;
  /** Line of the latest `start on` / `stop on` (for check-config's warnings). */
  readonly lines: Record<string, number>;
  /** Set by a handler that failed inside an open parenthesis (for error recovery). */
  openParens: number;
  /** Set by a handler that already skipped the rest of its stanza after an error. */
  recovered: boolean;
}

/** A stanza handler: consumes the stanza's arguments; returns an error or null. */
export type Handler = (ctx: StanzaContext) => LexError | null;
