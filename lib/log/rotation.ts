/**
 * Names and plans for rotated log files, as logrotate names them: `web.log` -> `web.log.1` ->
 * `web.log.2` ... (`web.log.1.gz` when compressed), the highest number the oldest. Pure: the caller
 * lists the directory and carries out the steps.
 */

export type RotationStep =
  | { readonly remove: string }
  | { readonly rename: string; readonly to: string };

/** `web.log.3` or `web.log.3.gz`. */
export function rotatedName(base: string, n: number, gz: boolean): string {
  return `${base}.${n}${gz ? ".gz" : ""}`;
}

/** The number and compression of a rotated file of `base`, or null for any other name. */
export function parseRotated(base: string, name: string): { n: number; gz: boolean } | null {
  if (!name.startsWith(`${base}.`)) return null;
  const m = /^(\d{1,6})(\.gz)?$/.exec(name.slice(base.length + 1));
  if (!m) return null;
  const n = Number(m[1]);
  return n >= 1 ? { n, gz: m[2] !== undefined } : null;
}

/** The rotated files of `base` among `names`, oldest (highest number) first. */
export function rotatedFiles(
  base: string,
  names: Iterable<string>,
): { name: string; n: number; gz: boolean }[] {
  const out: { name: string; n: number; gz: boolean }[] = [];
  for (const name of names) {
    const r = parseRotated(base, name);
    if (r) out.push({ name, ...r });
  }
  // Highest number first; for the same number the plain file before its .gz twin.
  return out.sort((a, b) => b.n - a.n || Number(a.gz) - Number(b.gz));
}

/**
 * The steps that turn `base` into `base.1` and shift every older file up by one, dropping what
 * would pass `keep`. A number present both plain and compressed (a compression cut short: the
 * `.gz` is only renamed into place once complete) keeps the `.gz`. With `keep` 0 the current file
 * is removed.
 */
export function planRotation(base: string, names: Iterable<string>, keep: number): RotationStep[] {
  const present = rotatedFiles(base, names);
  const steps: RotationStep[] = [];
  const gzNumbers = new Set(present.filter((f) => f.gz).map((f) => f.n));
  const kept: { name: string; n: number; gz: boolean }[] = [];
  for (const f of present) {
    if (!f.gz && gzNumbers.has(f.n)) steps.push({ remove: f.name });
    else if (f.n >= keep) steps.push({ remove: f.name });
    else kept.push(f);
  }
  for (const f of kept) steps.push({ rename: f.name, to: rotatedName(base, f.n + 1, f.gz) });
  steps.push(keep > 0 ? { rename: base, to: rotatedName(base, 1, false) } : { remove: base });
  return steps;
}

/** Rotated files older than `maxAgeSeconds` (by modification time) at `nowMs`. */
export function expiredFiles(
  files: readonly { readonly name: string; readonly mtimeMs: number }[],
  nowMs: number,
  maxAgeSeconds: number,
): string[] {
  return files.filter((f) => nowMs - f.mtimeMs > maxAgeSeconds * 1000).map((f) => f.name);
}
