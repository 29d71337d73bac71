/**
 * Letting go of the pages of Deno's program file that the daemon has touched but does not use
 * now: the TypeScript parser and module loader of `deno run`, V8's start-up snapshot, the code of
 * every subcommand's first run... A fresh Deno maps about 11 MB of its program, the daemon after
 * start-up 36 MB, most of which it never runs again.
 *
 * `preparePageDrop()` finds them, and what it returns unmaps them with madvise(MADV_DONTNEED):
 * the pages stay in the page cache (the kernel reclaims them first when memory is short, unlike
 * mapped ones), and what the daemon runs next is mapped again from there by a minor fault (the
 * kernel maps 16 pages at a time).
 * Only the program's read-only mappings that were never written are touched: a private mapping
 * that holds a written (copied) page, such as relocated read-only data, would lose what was
 * written, so such a mapping is left alone (smaps: `Anonymous:` is not 0), as is everything
 * writable.
 */

import { lazyLibc } from "./libc_open.ts";

const SYMBOLS = {
  madvise: { parameters: ["usize", "usize", "i32"], result: "i32" },
} as const;

const libc = lazyLibc(SYMBOLS);

const MADV_DONTNEED = 4;

/** A mapping of the program file: [start, end) addresses. */
export interface Range {
  readonly start: bigint;
  readonly end: bigint;
}

/**
 * The read-only mappings of `program` in the text of /proc/PID/smaps that hold no written page.
 * Pure.
 */
export function droppableRanges(smaps: string, program: string): Range[] {
  const out: Range[] = [];
  let current: { range: Range; ok: boolean } | null = null;
  const finish = () => {
    if (current?.ok) out.push(current.range);
    current = null;
  };
  for (const line of smaps.split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ (\d+)\s+(.*)$/.exec(line);
    if (head) {
      finish();
      const [, from, to, perms, inode, path] = head;
      current = {
        range: { start: BigInt(`0x${from}`), end: BigInt(`0x${to}`) },
        ok: path === program && inode !== "0" && (perms === "r-xp" || perms === "r--p"),
      };
      continue;
    }
    if (current && line.startsWith("Anonymous:") && !/^Anonymous:\s+0 kB/.test(line)) {
      current.ok = false;
    }
  }
  finish();
  return out;
}

let program: string | null | undefined;

/** What unmaps the program's read-only pages found by preparePageDrop: the bytes advised, or null. */
export type PageDrop = () => number | null;

/**
 * Read now which of the program's mappings may be unmapped, and bind madvise; return what unmaps
 * them, to be run later, once the daemon is quiet (IdleGc's late step). In two steps because
 * reading and taking apart /proc/self/smaps (hundreds of KB of text) sets V8's worker threads
 * going, and run just before the madvise they mapped the program back: with 100 jobs, 8-10 MB of
 * its code resident after the drop in half the runs (126 page faults after it, 111 of them on V8
 * worker threads), against 3.1-3.5 MB in every run with the mappings read 300 ms before (6 runs
 * each). The mappings are read again for each drop (a few ms; this runs after a compacting
 * collection only), so that a page written since, were anything ever to make a mapping writable
 * again, is never thrown away. Null when it cannot be done (no FFI, no /proc).
 */
export function preparePageDrop(): PageDrop | null {
  const c = libc();
  if (!c) return null;
  let ranges: Range[];
  let madvise: typeof c.madvise;
  try {
    program ??= Deno.realPathSync(Deno.execPath());
    ranges = droppableRanges(Deno.readTextFileSync("/proc/self/smaps"), program);
    madvise = c.madvise; // bound now, not in the drop
  } catch {
    return null; // no /proc, or madvise cannot be bound: nothing dropped, nothing broken
  }
  return () => {
    let bytes = 0;
    try {
      for (const r of ranges) {
        if (madvise(r.start, r.end - r.start, MADV_DONTNEED) === 0) {
          bytes += Number(r.end - r.start);
        }
      }
    } catch {
      return null; // never out of the timer that runs this
    }
    return bytes;
  };
}
