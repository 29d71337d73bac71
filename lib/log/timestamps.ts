/**
 * Line timestamps: RFC 3339 in UTC with milliseconds (`2024-05-01T12:34:56.789Z `), or TAI64N as
 * svlogd and s6-log write it (`@4000000066324b2a2f0e1a00 `: 2^62 + 10 + Unix seconds, then
 * nanoseconds, in hex; leap seconds ignored, as they do). Reading them back for `upkeep logs
 * --since`, and the `--since` argument itself. Pure: no Deno APIs.
 */

import type { TimestampFormat } from "./settings.ts";

const enc = new TextEncoder();

/** `2024-05-01T12:34:56.789Z` for a Unix time in milliseconds. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/** `@4000000066324b2a2f0e1a00` for a Unix time in milliseconds. */
export function tai64n(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  const label = (1n << 62n) + 10n + BigInt(seconds);
  return `@${label.toString(16).padStart(16, "0")}${nanos.toString(16).padStart(8, "0")}`;
}

/** The bytes put before every line: the time and one space. */
export function linePrefix(format: TimestampFormat, ms: number): Uint8Array {
  return enc.encode(`${format === "rfc3339" ? rfc3339(ms) : tai64n(ms)} `);
}

const RFC3339_AT_START = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))\s/;

/** The time (Unix ms) a log line starts with, in either format; null when it has none. */
export function lineTime(line: string): number | null {
  if (line.startsWith("@4") && line.length >= 25) {
    const hex = line.slice(1, 25);
    if (!/^[0-9a-f]{24}$/.test(hex)) return null;
    const seconds = BigInt(`0x${hex.slice(0, 16)}`) - (1n << 62n) - 10n;
    const nanos = parseInt(hex.slice(16), 16);
    return Number(seconds) * 1000 + Math.floor(nanos / 1e6);
  }
  const m = RFC3339_AT_START.exec(line);
  if (!m) return null;
  const t = Date.parse(m[1]!);
  return Number.isNaN(t) ? null : t;
}

const AGO_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * A `--since` argument: how long ago (`90s`, `10m`, `2h`, `3d`, `1w`), `today`, `yesterday`, a
 * date (`2024-05-01`, local midnight), a local date and time (`2024-05-01 12:30[:15]` or with a
 * `T`), or an RFC 3339 time with its zone. Unix ms, or null when it is none of these.
 */
export function parseSince(text: string, nowMs: number, tzOffsetMinutes?: number): number | null {
  const t = text.trim();
  const ago = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(t);
  if (ago) return nowMs - Number(ago[1]) * AGO_UNITS[ago[2]!]! * 1000;
  const local = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0) => {
    const utc = Date.UTC(y, mo - 1, d, h, mi, s);
    const offset = tzOffsetMinutes ?? new Date(utc).getTimezoneOffset();
    return utc + offset * 60_000;
  };
  if (t === "today" || t === "yesterday") {
    const offset = tzOffsetMinutes ?? new Date(nowMs).getTimezoneOffset();
    const localNow = new Date(nowMs - offset * 60_000);
    const midnight = local(
      localNow.getUTCFullYear(),
      localNow.getUTCMonth() + 1,
      localNow.getUTCDate(),
    );
    return t === "today" ? midnight : midnight - 86_400_000;
  }
  const dt = /^(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d))?)?$/.exec(t);
  if (dt) {
    const [y, mo, d, h, mi, s] = dt.slice(1).map((v) => v === undefined ? 0 : Number(v));
    return local(y!, mo!, d!, h, mi, s);
  }
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(t)) {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}
