/**
 * What `upkeep export` works on and produces: the jobs and cron runs read from disk (with where
 * each stanza stands, for messages), the files to write, and the notes about what could not be
 * carried over. Pure types and a note collector: no Deno APIs, no I/O.
 */

import type { JobClass } from "../job/model.ts";
import type { StanzaPosition } from "../job/parse.ts";
import type { RunOptions } from "../run/options.ts";
import type { CronSchedule } from "./cron.ts";

export const TARGETS = ["systemd", "kubernetes", "nomad"] as const;
export type ExportTarget = typeof TARGETS[number];

/** One job file, parsed (its `.override` applied), with the positions of its stanzas. */
export interface JobSource {
  readonly job: JobClass;
  readonly stanzas: readonly StanzaPosition[];
  /** The file's canonical path (symlinks and `..` resolved), to tell when two inputs are one. */
  readonly realPath?: string;
}

/** One `upkeep run ...` line of a crontab. */
export interface CronRun {
  /** Job name: `--name`, else the job file's or the command's base name. */
  readonly name: string;
  /** The crontab file and line the entry is on. */
  readonly file: string;
  readonly line: number;
  readonly schedule: CronSchedule;
  /** The user field of a system crontab (`/etc/crontab`, `/etc/cron.d/*`); null in a user's. */
  readonly user: string | null;
  /** `NAME=VALUE` lines above the entry (cron's own `MAILTO`, `CRON_TZ`... included). */
  readonly env: Readonly<Record<string, string>>;
  readonly options: RunOptions;
  /** The job file it runs (JOB.conf form), or null for the `-- COMMAND` form. */
  readonly source: JobSource | null;
}

/** A file to write, relative to the output directory. */
export interface ExportFile {
  readonly path: string;
  /** The job or cron run it comes from. */
  readonly job: string;
  /** `FILE` of the job, or `CRONTAB:LINE` of the cron run. */
  readonly source: string;
  readonly content: string;
  /** Kubernetes and Nomad: the manifest or the API JSON as data (what `content` spells). */
  readonly data?: unknown;
}

/**
 * Something the target cannot express. `warning`: behaviour is lost or changed (`--strict` makes
 * it an error); `info`: nothing the job does at run time is lost (a comment, a log location).
 */
export interface ExportNote {
  readonly job: string;
  readonly file: string;
  /** 1-based; 0 when the note is about the job as a whole. */
  readonly line: number;
  /** The stanza or option concerned, as written (`pre-stop`, `respawn delay`, `--retries`). */
  readonly stanza: string;
  readonly severity: "warning" | "info";
  readonly message: string;
}

/** What a mapper returns for one job or cron run. */
export interface MappedUnit {
  readonly files: ExportFile[];
  readonly notes: ExportNote[];
}

/** Collects notes for one job, placing each at the line of the stanza it is about. */
export class Notes {
  readonly list: ExportNote[] = [];
  constructor(
    readonly job: string,
    readonly file: string,
    readonly stanzas: readonly StanzaPosition[],
    /** For a cron run: the crontab line, used for notes about options. */
    readonly optionLine: { file: string; line: number } | null = null,
  ) {}

  /** The latest stanza `keyword [word]` (`respawn delay`), or the nth of them in file order. */
  position(stanza: string, nth?: number): StanzaPosition | null {
    const [keyword, word] = splitStanza(stanza);
    const all = this.stanzas.filter((s) =>
      s.keyword === keyword && (word === null || s.word === word)
    );
    return (nth === undefined ? all[all.length - 1] : all[nth]) ?? null;
  }

  #add(severity: ExportNote["severity"], stanza: string, message: string, nth?: number): void {
    let file = this.file, line = 0;
    if (stanza.startsWith("--") || stanza === "schedule" || stanza === "command") {
      if (this.optionLine) ({ file, line } = this.optionLine);
    } else {
      const p = this.position(stanza, nth);
      if (p) ({ file, line } = p);
    }
    this.list.push({ job: this.job, file, line, stanza, severity, message });
  }

  warn(stanza: string, message: string, nth?: number): void {
    this.#add("warning", stanza, message, nth);
  }

  info(stanza: string, message: string, nth?: number): void {
    this.#add("info", stanza, message, nth);
  }
}

/** The position among checks of its own type (`health http` stanzas are counted apart). */
export function nthOfType(checks: readonly { readonly type: string }[], index: number): number {
  return checks.slice(0, index).filter((c) => c.type === checks[index]?.type).length;
}

/** `"respawn delay"` -> ["respawn", "delay"]; `"pre-stop"` -> ["pre-stop", null]. */
function splitStanza(stanza: string): [string, string | null] {
  const sp = stanza.indexOf(" ");
  return sp < 0 ? [stanza, null] : [stanza.slice(0, sp), stanza.slice(sp + 1)];
}

/** Notes for a job file, or for the job file a cron run runs (options at the crontab line). */
export function notesFor(source: JobSource | null, name: string, cron?: CronRun): Notes {
  const optionLine = cron ? { file: cron.file, line: cron.line } : null;
  if (!source) return new Notes(name, cron?.file ?? "", [], optionLine);
  return new Notes(name, source.job.file, source.stanzas, optionLine);
}
