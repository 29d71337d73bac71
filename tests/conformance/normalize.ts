/**
 * Normalising transcripts so that Upstart's and upkeep's can be compared: pids become PID1, PID2 …
 * in order of first appearance (so "the same pid" and "a new pid" still show), hash-ordered output
 * (list, show-config, check-config) is sorted by block, the run's own paths become placeholders.
 * Pure: no Deno APIs.
 */

/** Commands whose output Upstart prints in hash-table order. */
export const UNORDERED_COMMANDS: ReadonlySet<string> = new Set([
  "list",
  "show-config",
  "check-config",
]);

/**
 * Sort the blocks of an output: a block is a line that does not start with whitespace plus the
 * indented lines that follow it (a status line with its process lines, a show-config job).
 */
export function sortBlocks(text: string): string {
  if (text === "") return text;
  const trailing = text.endsWith("\n");
  const lines = (trailing ? text.slice(0, -1) : text).split("\n");
  const blocks: string[][] = [];
  for (const line of lines) {
    if (/^\s/.test(line) && blocks.length > 0) blocks[blocks.length - 1]!.push(line);
    else blocks.push([line]);
  }
  const sorted = blocks.map((b) => b.join("\n")).sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
  return sorted.join("\n") + (trailing ? "\n" : "");
}

/** Numbers pids by first appearance across one transcript. */
export class PidNames {
  readonly #names = new Map<string, string>();

  /** `process 1234` (status lines) becomes `process PIDn`. */
  replace(text: string): string {
    return text.replace(/\bprocess (\d+)\b/g, (_m, pid: string) => `process ${this.name(pid)}`);
  }

  has(pid: string): boolean {
    return this.#names.has(pid);
  }

  name(pid: string): string {
    let n = this.#names.get(pid);
    if (!n) {
      n = `PID${this.#names.size + 1}`;
      this.#names.set(pid, n);
    }
    return n;
  }
}

/** Replace each `[from, to]` (longest `from` first) throughout `text`. */
export function replacePaths(text: string, paths: readonly (readonly [string, string])[]): string {
  const sorted = [...paths].filter(([from]) => from !== "").sort((a, b) =>
    b[0].length - a[0].length
  );
  for (const [from, to] of sorted) text = text.replaceAll(from, to);
  return text;
}

/** Line-oriented diff of two transcripts, for a failure message (first difference marked). */
export function describeDifference(expected: string, actual: string): string {
  const a = expected.split("\n");
  const b = actual.split("\n");
  let first = 0;
  while (first < a.length && first < b.length && a[first] === b[first]) first++;
  const from = Math.max(0, first - 6);
  const show = (lines: string[]) =>
    lines.slice(from, first + 8).map((l, i) => `${from + i === first ? ">" : " "} ${l}`)
      .join("\n");
  return `first difference at line ${first + 1}\n--- Upstart 1.13.2\n${show(a)}\n+++ upkeep\n${
    show(b)
  }`;
}
