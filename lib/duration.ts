/**
 * Durations as people write them: `90` (seconds), `0.5s`, `500ms`, `90s`, `5m`, `1h`. Pure.
 * Used by upkeep's extension stanzas and by `upkeep run` options.
 */

const UNITS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds for a duration text, or null when it is not one (negative, empty, unknown unit, NaN). */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) return null;
  const value = Number(m[1]) * (UNITS[m[2] ?? "s"] ?? 1);
  return Number.isFinite(value) ? value : null;
}

/** A short human form: `250ms`, `1.5s`, `2m`, `1h30m`. */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 60) return `${Number(seconds.toFixed(1))}s`;
  if (seconds < 3600) {
    const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
    return s ? `${m}m${s}s` : `${m}m`;
  }
  const h = Math.floor(seconds / 3600), m = Math.round((seconds % 3600) / 60);
  return m ? `${h}h${m}m` : `${h}h`;
}
