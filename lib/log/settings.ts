/**
 * How a job's `console log` output is kept: rotation size and count, retention age, compression,
 * timestamps and markers. A job's `log` stanzas win; what they leave out comes from the daemon's
 * flags (`--log-size`, `--log-keep`, ...), and those default to LOG_DEFAULTS. Pure: no Deno APIs.
 */

import { JOB_LOG_DEFAULTS, type JobLog } from "../job/model.ts";
import { parseSize } from "../job/extensions.ts";
import { MIN_LOG_SIZE, parseMaxAge } from "../job/log_stanza.ts";

export type TimestampFormat = "rfc3339" | "tai64n";

export interface LogSettings {
  /** Rotate once the file would pass this many bytes; 0: never. */
  readonly maxBytes: number;
  /** Rotated files kept (JOB.log.1 ... JOB.log.KEEP). */
  readonly keep: number;
  /** Remove rotated files older than this many seconds; null: no age limit. */
  readonly maxAge: number | null;
  readonly compress: boolean;
  readonly timestamps: TimestampFormat | null;
  readonly markers: boolean;
}

/**
 * The defaults: 100 MiB per file and 5 old files (at most 600 MiB per job, about supervisord's
 * budget of 50 MB × 10), no age limit, no compression, no timestamps, no markers.
 */
export const LOG_DEFAULTS: LogSettings = Object.freeze({
  maxBytes: 100 * 1024 * 1024,
  keep: 5,
  maxAge: null,
  compress: false,
  timestamps: null,
  markers: false,
});

/** A job's settings: its stanzas over the daemon's defaults. */
export function resolveLogSettings(job: JobLog | undefined, daemon: LogSettings): LogSettings {
  const j = job ?? JOB_LOG_DEFAULTS;
  const rotate = j.rotate === null
    ? { maxBytes: daemon.maxBytes, keep: daemon.keep }
    : j.rotate === "off"
    ? { maxBytes: 0, keep: daemon.keep }
    : { maxBytes: j.rotate.size, keep: j.rotate.keep };
  return {
    ...rotate,
    maxAge: j.maxAge === null ? daemon.maxAge : j.maxAge === "off" ? null : j.maxAge,
    compress: j.compress ?? daemon.compress,
    timestamps: j.timestamps === null
      ? daemon.timestamps
      : j.timestamps === "off"
      ? null
      : j.timestamps,
    markers: j.markers ?? daemon.markers,
  };
}

/** Whether output must pass through user space (a time or a marker per line). */
export function needsLineMode(s: LogSettings): boolean {
  return s.timestamps !== null || s.markers;
}

/** The daemon's flags, as parsed by lib/cli/options.ts. */
export interface LogFlags {
  readonly "log-size"?: string;
  readonly "log-keep"?: string;
  readonly "log-max-age"?: string;
  readonly "log-timestamps"?: string;
  readonly "log-markers"?: boolean;
  readonly "log-compress"?: boolean;
}

/**
 * The daemon's defaults from its flags: `--log-size SIZE|0` (0: never rotate), `--log-keep N`,
 * `--log-max-age DAYS`, `--log-timestamps rfc3339|tai64n|off`, `--log-markers`,
 * `--log-compress`. A string says what is wrong with one of them.
 */
export function logSettingsFromFlags(flags: LogFlags): LogSettings | string {
  let { maxBytes, keep, maxAge, timestamps } = LOG_DEFAULTS;
  const size = flags["log-size"];
  if (size !== undefined) {
    const v = size === "0" || size === "off" ? 0 : parseSize(size);
    if (v === null || (v !== 0 && v < MIN_LOG_SIZE)) {
      return `bad --log-size '${size}' (bytes with K, M or G, at least 4K; 0 never rotates)`;
    }
    maxBytes = v;
  }
  const k = flags["log-keep"];
  if (k !== undefined) {
    if (!/^\d{1,4}$/.test(k) || Number(k) > 1000) return `bad --log-keep '${k}' (0 to 1000)`;
    keep = Number(k);
  }
  const age = flags["log-max-age"];
  if (age !== undefined) {
    const v = age === "off" ? null : parseMaxAge(age);
    if (v === null && age !== "off") return `bad --log-max-age '${age}' (days, or 12h, 90m)`;
    maxAge = v;
  }
  const ts = flags["log-timestamps"];
  if (ts !== undefined) {
    if (ts !== "rfc3339" && ts !== "tai64n" && ts !== "off") {
      return `bad --log-timestamps '${ts}' (rfc3339, tai64n or off)`;
    }
    timestamps = ts === "off" ? null : ts;
  }
  return {
    maxBytes,
    keep,
    maxAge,
    compress: flags["log-compress"] === true,
    timestamps,
    markers: flags["log-markers"] === true,
  };
}
