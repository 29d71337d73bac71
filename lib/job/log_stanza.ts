/**
 * upkeep's `log` extension stanza (not Upstart), one setting per stanza:
 *
 *   log rotate SIZE COUNT      rotate past SIZE bytes (K, M, G suffixes), keep COUNT old files
 *   log rotate off             never rotate
 *   log max-age DAYS|off       remove rotated files older than DAYS (or a duration: 12h, 90m)
 *   log timestamps [FORMAT]    rfc3339 (the default word) or tai64n, or off
 *   log markers [on|off]       a line in the log when a process starts and how it ended
 *   log compress [on|off]      gzip rotated files (JOB.log.1.gz)
 *
 * Settings left out take the daemon's defaults (lib/log/settings.ts). Pure: no Deno APIs.
 */

import { JOB_LOG_DEFAULTS, type JobLog } from "./model.ts";
import type { StanzaContext } from "./draft.ts";
import { CNLWS, hasToken, LexError, MSG, nextArg, nextToken, skipComment } from "./lexer.ts";
import { extensionWarning, parseSize } from "./extensions.ts";
import { parseDuration } from "../duration.ts";
import { strtol } from "./numbers.ts";

export const LOG_MSG = {
  illegalLogSize: "Illegal log size, expected bytes with optional K, M, G or T suffix",
  illegalLogCount: "Illegal log file count, expected 0 to 1000",
  illegalMaxAge: "Illegal log age, expected days or a duration with m, h or d",
  illegalTimestamps: "Illegal timestamp format, expected rfc3339, tai64n or off",
  illegalSwitch: "Illegal value, expected on or off",
} as const;

/** The smallest file size rotation accepts (a line with its time must fit). */
export const MIN_LOG_SIZE = 4096;

function set(ctx: StanzaContext, change: Partial<JobLog>): void {
  ctx.job.log = Object.freeze({ ...(ctx.job.log ?? JOB_LOG_DEFAULTS), ...change });
}

/** `on`/`off` after a word, `on` when nothing follows. */
function onOff(ctx: StanzaContext): boolean | LexError {
  if (!hasToken(ctx.c)) return true;
  const t = nextArg(ctx.c);
  if (t instanceof LexError) return t;
  if (t.text === "on") return true;
  if (t.text === "off") return false;
  return new LexError(LOG_MSG.illegalSwitch, t.line);
}

/** Days as a plain number (`7`, `0.5`) or a duration with a unit (`12h`, `90m`, `2d`): seconds. */
export function parseMaxAge(text: string): number | null {
  const seconds = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 86400 : parseDuration(text);
  return seconds === null || !(seconds > 0) ? null : seconds;
}

export function logStanza(ctx: StanzaContext): LexError | null {
  const { c } = ctx;
  const k = nextToken(c, CNLWS, false);
  if (k instanceof LexError) return k;
  if (ctx.upstartOnly) ctx.warn(extensionWarning(`log ${k.text}`), ctx.line);
  switch (k.text) {
    case "rotate": {
      const s = nextArg(c);
      if (s instanceof LexError) return s;
      if (s.text === "off") {
        set(ctx, { rotate: "off" });
        break;
      }
      const size = parseSize(s.text);
      if (size === null || size < MIN_LOG_SIZE) return new LexError(LOG_MSG.illegalLogSize, s.line);
      const n = nextArg(c);
      if (n instanceof LexError) return n;
      const keep = strtol(n.text);
      if (keep === null || keep < 0n || keep > 1000n) {
        return new LexError(LOG_MSG.illegalLogCount, n.line);
      }
      set(ctx, { rotate: Object.freeze({ size, keep: Number(keep) }) });
      break;
    }
    case "max-age": {
      const t = nextArg(c);
      if (t instanceof LexError) return t;
      const age = t.text === "off" ? "off" : parseMaxAge(t.text);
      if (age === null) return new LexError(LOG_MSG.illegalMaxAge, t.line);
      set(ctx, { maxAge: age });
      break;
    }
    case "timestamps": {
      let format: JobLog["timestamps"] = "rfc3339";
      if (hasToken(c)) {
        const t = nextArg(c);
        if (t instanceof LexError) return t;
        if (t.text !== "rfc3339" && t.text !== "tai64n" && t.text !== "off") {
          return new LexError(LOG_MSG.illegalTimestamps, t.line);
        }
        format = t.text;
      }
      set(ctx, { timestamps: format });
      break;
    }
    case "markers":
    case "compress": {
      const v = onOff(ctx);
      if (v instanceof LexError) return v;
      set(ctx, k.text === "markers" ? { markers: v } : { compress: v });
      break;
    }
    default:
      return new LexError(MSG.unknownStanza, k.line);
  }
  return skipComment(c);
}
