/**
 * `parseJob`: job-file text in, a frozen `JobClass` (Upstart's defaults filled in) and every
 * diagnostic out. Unlike Upstart, which stops at the first error, it reports every error in the
 * file: after an error, the rest of that stanza (its logical line, its script block, or the lines
 * of an open parenthesised expression) is skipped and parsing goes on. Pure: no Deno APIs; never
 * throws and always terminates, whatever the input.
 */

import { defaultJob, type Diagnostic, type JobClass } from "./model.ts";
import { type Draft, freezeDraft, type StanzaContext, toDraft } from "./draft.ts";
import {
  CNL,
  CNLWS,
  type Cursor,
  cursor,
  hasToken,
  isWs,
  LexError,
  MSG,
  nextLine,
  nextToken,
  scanToken,
} from "./lexer.ts";
import { STANZAS } from "./stanzas.ts";

export interface ParseOptions {
  /** Job name (`net/apache`). */
  readonly name: string;
  /** Path reported in diagnostics (and stored in the job unless `base` is given). */
  readonly file: string;
  /** init's environment: resolves `env KEY` (the stanza is dropped when KEY is absent). */
  readonly env?: Readonly<Record<string, string>>;
  /** The job to apply an `.override` file on top of. */
  readonly base?: JobClass;
  /** Warn about every upkeep extension stanza (`check-config --upstart`). */
  readonly upstartOnly?: boolean;
}

/** Where one stanza that parsed without error stands: `respawn limit 10 5` is ("respawn", "limit"). */
export interface StanzaPosition {
  readonly file: string;
  readonly line: number;
  readonly keyword: string;
  /** The next word on the stanza's line as written (quotes kept); "" when there is none. */
  readonly word: string;
}

export interface ParseResult {
  /** null when there is any error-severity diagnostic. */
  readonly job: JobClass | null;
  readonly diagnostics: readonly Diagnostic[];
  /** Line of the latest `start on` / `stop on` stanza, keyed by those words (for warnings). */
  readonly lines?: Readonly<Record<string, number>>;
  /** Every stanza that parsed without error, in file order (for messages about a stanza). */
  readonly stanzas?: readonly StanzaPosition[];
  /**
   * With `base` (an .override) and an error: the job as Upstart leaves it, with the stanzas
   * before the first error applied and the value of the stanza that failed cleared (Upstart
   * parses an override into the live job and stops at its first error).
   */
  readonly partial?: JobClass;
}

/** Fields a failing stanza leaves empty in Upstart (it drops the old value before parsing). */
const CLEARED_ON_ERROR: Readonly<Record<string, (job: Draft) => void>> = {
  description: (j) => j.description = null,
  author: (j) => j.author = null,
  version: (j) => j.version = null,
  usage: (j) => j.usage = null,
  instance: (j) => j.instance = "",
  chroot: (j) => j.chroot = null,
  chdir: (j) => j.chdir = null,
  setuid: (j) => j.setuid = null,
  setgid: (j) => j.setgid = null,
  start: (j) => j.startOn = null,
  stop: (j) => j.stopOn = null,
};

/** Skip what is left of a stanza after an error: its logical line, and lines of open parens. */
function recover(c: Cursor, openParens: number): void {
  let depth = openParens;
  const count = (text: string) => {
    for (const ch of text) {
      if (ch === "(") depth++;
      else if (ch === ")") depth--;
    }
  };
  const from = c.pos;
  const t = scanToken(c, CNL, false);
  if (t instanceof LexError) {
    c.pos = c.src.length;
    return;
  }
  count(c.src.slice(from, c.pos));
  nextLine(c);
  while (depth > 0 && c.pos < c.src.length) {
    const end = c.src.indexOf("\n", c.pos);
    count(c.src.slice(c.pos, end === -1 ? c.src.length : end).split("#", 1)[0]!);
    nextLine(c);
  }
}

/**
 * Pure. `env` resolves `env KEY` (copy of init's value; dropped when absent). `base`: the job to
 * apply an .override file on top of. job is null when there is any error-severity diagnostic.
 */
export function parseJob(
  text: string,
  opts: ParseOptions,
): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const lines: Record<string, number> = {};
  const stanzas: StanzaPosition[] = [];
  const c = cursor(text);
  const job = toDraft(opts.base ?? defaultJob(opts.name, opts.file));
  const env = opts.env ?? {};
  const add = (message: string, line: number, severity: Diagnostic["severity"]) =>
    diagnostics.push({ file: opts.file, line, message, severity });
  let errors = 0;
  let partial: JobClass | undefined;
  const error = (e: LexError, stanza: string | null = null, before: unknown = undefined) => {
    errors++;
    add(e.message, e.line, "error");
    if (errors === 1 && opts.base) {
      const snapshot = toDraft(freezeDraft(job));
      const clear = stanza === null ? undefined : CLEARED_ON_ERROR[stanza];
      if (clear && JSON.stringify(fieldOf(job, stanza!)) === JSON.stringify(before)) {
        clear(snapshot);
      }
      partial = freezeDraft(snapshot);
    }
  };

  while (c.pos < text.length) {
    while (c.pos < text.length && isWs(text.charCodeAt(c.pos))) c.pos++;
    if (!hasToken(c)) {
      nextLine(c);
      continue;
    }
    const name = nextToken(c, CNLWS, false);
    if (name instanceof LexError) {
      error(name);
      recover(c, 0);
      continue;
    }
    const handler = STANZAS.get(name.text);
    if (!handler) {
      error(new LexError(MSG.unknownStanza, name.line));
      recover(c, 0);
      continue;
    }
    const ctx: StanzaContext = {
      c,
      job,
      line: name.line,
      env,
      upstartOnly: opts.upstartOnly ?? false,
      warn: (message, line) => add(message, line, "warning"),
      lines,
      openParens: 0,
      recovered: false,
    };
    const rest = text.slice(c.pos, c.pos + 200);
    const before = fieldOf(job, name.text);
    const e = handler(ctx);
    if (e) {
      error(e, name.text, before);
      if (!ctx.recovered) recover(c, ctx.openParens);
    } else {
      const word = /^[ \t]*([^\s#]*)/.exec(rest)?.[1] ?? "";
      stanzas.push({ file: opts.file, line: name.line, keyword: name.text, word });
    }
  }
  return {
    job: errors ? null : freezeDraft(job),
    diagnostics,
    lines,
    stanzas,
    ...(partial ? { partial } : {}),
  };
}

/** The value a stanza sets (for the ones Upstart clears when they fail). */
function fieldOf(job: Draft, stanza: string): unknown {
  switch (stanza) {
    case "start":
      return job.startOn;
    case "stop":
      return job.stopOn;
    case "description":
    case "author":
    case "version":
    case "usage":
    case "instance":
    case "chroot":
    case "chdir":
    case "setuid":
    case "setgid":
      return job[stanza];
    default:
      return undefined;
  }
}
