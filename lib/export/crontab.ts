/**
 * Reading crontab text for `upkeep export --crontab`: user crontabs (`crontab -l`) and system ones
 * (`/etc/crontab`, `/etc/cron.d/*`, with a user field), `NAME=VALUE` lines, and the `upkeep run`
 * lines among the entries, their options parsed by `upkeep run`'s own parser. Lines that run
 * something else are listed as skipped; nothing is guessed. Pure: no Deno APIs.
 */

import type { Diagnostic } from "../job/model.ts";
import { parseRunArgs, type RunOptions } from "../run/options.ts";
import { splitShellWords } from "../install/shell_words.ts";
import { type CronSchedule, parseCronSchedule } from "./cron.ts";

/** An `upkeep run` entry, before its job file (if any) is read. */
export interface CronLine {
  readonly file: string;
  readonly line: number;
  readonly schedule: CronSchedule;
  readonly user: string | null;
  /** Crontab `NAME=VALUE` lines above it, then `NAME=VALUE` words before `upkeep`. */
  readonly env: Readonly<Record<string, string>>;
  readonly options: RunOptions;
  /** Redirections dropped from the command line (`>/dev/null`, `2>&1`). */
  readonly redirections: readonly string[];
}

/** A line that is not an `upkeep run` entry, or one that cannot be exported. */
export interface SkippedLine {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  readonly reason: string;
}

export interface CrontabResult {
  readonly lines: CronLine[];
  readonly skipped: SkippedLine[];
  readonly errors: Diagnostic[];
}

const ENV_LINE = /^([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(.*)$/;
const REDIRECT = /^(?:\d*|&)(?:>>?|<)(?:&\d+|.*)$/;

function unquote(v: string): string {
  const t = v.trim();
  if (t.length >= 2 && (t[0] === '"' || t[0] === "'") && t[t.length - 1] === t[0]) {
    return t.slice(1, -1);
  }
  return t;
}

/** True when a command has `;`, `|`, `&` (outside `>&N`), a backquote or `$(` outside quotes. */
function hasShellOperators(cmd: string): boolean {
  let quote: string | null = null;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"') i++;
      continue;
    }
    if (c === "\\") i++;
    else if (c === "'" || c === '"') quote = c;
    else if (c === ";" || c === "|" || c === "`") return true;
    else if (c === "$" && cmd[i + 1] === "(") return true;
    else if (c === "&" && !/[<>]/.test(cmd[i - 1] ?? "") && cmd[i + 1] !== ">") return true;
  }
  return false;
}

/** cron's `%`: an unescaped one ends the command (the rest is its stdin). */
function percentSplit(cmd: string): { command: string; hasStdin: boolean } {
  let out = "";
  for (let i = 0; i < cmd.length; i++) {
    if (cmd[i] === "\\" && cmd[i + 1] === "%") {
      out += "%";
      i++;
    } else if (cmd[i] === "%") {
      return { command: out, hasStdin: true };
    } else {
      out += cmd[i];
    }
  }
  return { command: out, hasStdin: false };
}

const base = (w: string) => w.slice(w.lastIndexOf("/") + 1);

/** Parse a crontab. `file` names it in messages. */
export function parseCrontab(text: string, file: string): CrontabResult {
  const lines: CronLine[] = [];
  const skipped: SkippedLine[] = [];
  const errors: Diagnostic[] = [];
  const env: Record<string, string> = {};
  const rows = text.split("\n");
  for (let i = 0; i < rows.length; i++) {
    const lineNo = i + 1;
    const raw = rows[i]!.replace(/\r$/, "");
    const t = raw.trim();
    if (!t || t.startsWith("#")) continue;
    const envMatch = ENV_LINE.exec(t);
    if (envMatch) {
      env[envMatch[1]!] = unquote(envMatch[2]!);
      continue;
    }
    const skip = (reason: string) => skipped.push({ file, line: lineNo, text: t, reason });
    const error = (message: string) =>
      errors.push({ file, line: lineNo, message, severity: "error" });
    const words = t.split(/[ \t]+/);
    const nSched = t.startsWith("@") ? 1 : 5;
    const schedule = parseCronSchedule(words.slice(0, nSched));
    if ("error" in schedule) {
      error(schedule.error);
      continue;
    }
    let rest = words.slice(nSched);
    let user: string | null = null;
    const upkeepAt = rest.findIndex((w, k) => k <= 2 && base(w) === "upkeep");
    if (upkeepAt < 0 || rest[upkeepAt + 1] !== "run") {
      skip("not an 'upkeep run' line");
      continue;
    }
    // A system crontab's user field comes before the command; NAME=VALUE words may follow it.
    if (upkeepAt > 0 && !ENV_LINE.test(rest[0]!)) {
      user = rest[0]!;
      rest = rest.slice(1);
    }
    const { command, hasStdin } = percentSplit(commandText(t, nSched + (user === null ? 0 : 1)));
    if (hasStdin) {
      skip("cron's '%' (standard input for the command) has no counterpart");
      continue;
    }
    if (hasShellOperators(command)) {
      skip("a shell command line (';', '|', '&', '$(\u2026)'), not a plain 'upkeep run'");
      continue;
    }
    const argv = splitShellWords(command);
    if (argv === null) {
      error("Unterminated quote in the command");
      continue;
    }
    const lineEnv: Record<string, string> = { ...env };
    const redirections: string[] = [];
    const plain: string[] = [];
    for (let k = 0; k < argv.length; k++) {
      const w = argv[k]!;
      if (REDIRECT.test(w)) {
        const op = /^(?:\d*|&)(?:>>?|<)$/.test(w) && k + 1 < argv.length ? ` ${argv[++k]}` : "";
        redirections.push(w + op);
      } else if (plain.length === 0 && ENV_LINE.test(w) && base(w) !== "upkeep") {
        const m = ENV_LINE.exec(w)!;
        lineEnv[m[1]!] = m[2]!;
      } else {
        plain.push(w);
      }
    }
    const options = parseRunArgs(plain.slice(2));
    if ("error" in options) {
      error(`upkeep run: ${options.error}`);
      continue;
    }
    lines.push({ file, line: lineNo, schedule, user, env: lineEnv, options, redirections });
  }
  return { lines, skipped, errors };
}

/** The text of a line after its first `n` blank-separated words, spacing kept. */
function commandText(raw: string, n: number): string {
  let rest = raw.trim();
  for (let k = 0; k < n; k++) rest = rest.replace(/^[^ \t]+[ \t]*/, "");
  return rest;
}
