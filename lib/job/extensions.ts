/**
 * upkeep's extension stanzas (not Upstart): `respawn delay MIN MAX`, `respawn retry AFTER` and
 * `health exec|http|tcp|interval|timeout|retries|grace|memory ...`. Durations accept plain seconds
 * and `500ms`, `0.5s`, `90s`, `5m`, `1h`. With `upstartOnly`, each use also raises a warning, so
 * `check-config --upstart` tells which files Upstart itself would reject. Pure: no Deno APIs.
 */

import { HEALTH_DEFAULTS } from "./model.ts";
import type { HealthDraft, StanzaContext } from "./draft.ts";
import {
  CNLWS,
  hasToken,
  LexError,
  MSG,
  nextArg,
  nextToken,
  parseCommand,
  skipComment,
  type Token,
} from "./lexer.ts";
import { parseDuration } from "../duration.ts";
import { strtol } from "./numbers.ts";

export const EXT_MSG = {
  illegalDuration: "Illegal duration, expected seconds or a number with ms, s, m or h",
  illegalDelay: "Illegal respawn delay, expected MIN no greater than MAX",
  illegalUrl: "Illegal URL, expected http:// or https:// URL",
  illegalAddress: "Illegal address, expected HOST:PORT",
  illegalRetries: "Illegal retry count, expected positive integer",
  illegalSize: "Illegal memory size, expected bytes with optional K, M, G or T suffix",
} as const;

/** The warning `check-config --upstart` gives for an extension stanza. */
export function extensionWarning(stanza: string): string {
  return `Not an Upstart stanza: '${stanza}' (upkeep extension)`;
}

function duration(t: Token): number | LexError {
  const v = parseDuration(t.text);
  return v === null ? new LexError(EXT_MSG.illegalDuration, t.line) : v;
}

/** `respawn delay MIN MAX` / `respawn retry AFTER`; anything else after `respawn` is unknown. */
export function respawnExtension(ctx: StanzaContext, k: Token): LexError | null {
  const { c, job } = ctx;
  if (k.text !== "delay" && k.text !== "retry") return new LexError(MSG.unknownStanza, k.line);
  if (ctx.upstartOnly) ctx.warn(extensionWarning(`respawn ${k.text}`), ctx.line);
  const a = nextArg(c);
  if (a instanceof LexError) return a;
  const first = duration(a);
  if (first instanceof LexError) return first;
  if (k.text === "retry") {
    job.respawnRetry = first;
    return skipComment(c);
  }
  const b = nextArg(c);
  if (b instanceof LexError) return b;
  const second = duration(b);
  if (second instanceof LexError) return second;
  if (first > second) return new LexError(EXT_MSG.illegalDelay, b.line);
  job.respawnDelay = { min: first, max: second };
  return skipComment(c);
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  "": 1,
  K: 1024,
  M: 1024 ** 2,
  G: 1024 ** 3,
  T: 1024 ** 4,
};

/** `512M`, `1.5G`, `1048576` -> bytes (base 1024; a trailing `B`/`iB` is allowed). */
export function parseSize(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)(?:i?B)?$/i.exec(text);
  if (!m) return null;
  const v = Number(m[1]) * (SIZE_UNITS[(m[2] ?? "").toUpperCase()] ?? NaN);
  return Number.isFinite(v) ? Math.floor(v) : null;
}

/** `HOST:PORT` or `[V6]:PORT` with a port 1-65535. */
export function parseHostPort(text: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1] ?? m[2]!, port };
}

function isHttpUrl(text: string): boolean {
  if (!/^https?:\/\/[^\s/]/.test(text)) return false;
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}

function health(ctx: StanzaContext): HealthDraft {
  return ctx.job.health ??= { checks: [], ...HEALTH_DEFAULTS, memory: null };
}

/** The `health` stanza: one check or one setting per stanza; checks accumulate. */
export function healthStanza(ctx: StanzaContext): LexError | null {
  const { c } = ctx;
  if (ctx.upstartOnly) ctx.warn(extensionWarning("health"), ctx.line);
  const k = nextToken(c, CNLWS, false);
  if (k instanceof LexError) return k;
  if (k.text === "exec") {
    if (!hasToken(c)) return new LexError(MSG.expectedToken, c.line);
    const cmd = parseCommand(c);
    if (cmd instanceof LexError) return cmd;
    health(ctx).checks.push({ type: "exec", command: cmd });
    return null;
  }
  const known = ["http", "tcp", "interval", "timeout", "grace", "retries", "memory"];
  if (!known.includes(k.text)) return new LexError(MSG.unknownStanza, k.line);
  const t = nextArg(c);
  if (t instanceof LexError) return t;
  const h = health(ctx);
  switch (k.text) {
    case "http":
      if (!isHttpUrl(t.text)) return new LexError(EXT_MSG.illegalUrl, t.line);
      h.checks.push({ type: "http", url: t.text });
      break;
    case "tcp": {
      const hp = parseHostPort(t.text);
      if (!hp) return new LexError(EXT_MSG.illegalAddress, t.line);
      h.checks.push({ type: "tcp", ...hp });
      break;
    }
    case "interval":
    case "timeout":
    case "grace": {
      const d = duration(t);
      if (d instanceof LexError) return d;
      h[k.text] = d;
      break;
    }
    case "retries": {
      const n = strtol(t.text);
      if (n === null || n < 1n || n > 1_000_000n) {
        return new LexError(EXT_MSG.illegalRetries, t.line);
      }
      h.retries = Number(n);
      break;
    }
    case "memory": {
      const size = parseSize(t.text);
      if (size === null) return new LexError(EXT_MSG.illegalSize, t.line);
      h.memory = size;
      break;
    }
  }
  return skipComment(c);
}
