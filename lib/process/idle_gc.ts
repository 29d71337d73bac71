/**
 * One garbage collection once the daemon has been quiet for IDLE_GC_MS after a burst of work
 * (start-up, a crash storm, a flood of queries), so that its memory goes back down promptly and
 * stays flat: a compacting one when the heap has grown, a young-generation one otherwise. It
 * stands in for V8's memory reducer, which the daemon runs without (`--no-memory-reducer`): that
 * one wakes the daemon up on its own timers for tens of seconds after any activity, this one fires
 * once after activity (twice after a big burst, see LATE_STEP_MS), and never when nothing
 * happens. Needs `--expose-gc` (DAEMON_V8_FLAGS); does nothing without it. The memory malloc then
 * holds free goes back to the system too (malloc_trim), and after a big burst, so do the pages of
 * Deno's program it touched (program_pages.ts).
 */

import { mallocTrim } from "./ffi.ts";
import { type PageDrop, preparePageDrop } from "./program_pages.ts";

/** Quiet time after the last activity before the collection. */
export const IDLE_GC_MS = 500;

/**
 * The quiet time before the first collection, the one after the daemon's own start-up: its
 * spawns follow each other without a pause, so a short one tells its end. With IDLE_GC_MS there
 * too, a daemon with 100 jobs kept its start-up's memory until 0.8 s after the last one was up
 * (1.05-1.1 s after launch: 53-56 MB PSS, 30 MB once collected), so a reading 1 s after start-up
 * (the bench's) could catch either; with one job, the bench read 39 MB where the daemon holds 28.
 */
export const STARTUP_QUIET_MS = 100;

/**
 * V8's `gc()` options (--expose-gc) for a full, synchronous collection of the "last resort" kind,
 * which also compacts the heap and gives its emptied pages back. A full collection without it
 * leaves them committed: measured with 1,000 jobs after start-up, the heap stays at 21.4 MB for
 * 13.4 MB in use, against 14.1 MB with this (PSS 78 MB against 67 MB). It costs more: 81 ms
 * against 16 ms right after that start-up, 20 against 10 ms after a `status` with 100 jobs. So it
 * runs only when the heap has grown by COMPACT_AFTER_GROWTH since the last one (the first time:
 * after start-up). After a burst that grew nothing (a `status`, a respawn) a young-generation
 * collection (0.2 to 0.4 ms) is enough: what such a burst leaves is young garbage.
 */
export const COMPACTING_GC = { type: "major", execution: "sync", flavor: "last-resort" } as const;

/** A synchronous young-generation collection (a scavenge). */
export const YOUNG_GC = { type: "minor", execution: "sync" } as const;

/** Heap growth (bytes, V8's heapTotal) since the last compacting collection that calls another. */
export const COMPACT_AFTER_GROWTH = 1 << 20;

/** V8's exposed `gc` function, as much of it as this module uses. */
export type GcFunction = (options: typeof COMPACTING_GC | typeof YOUNG_GC) => void;

/**
 * After a compacting collection, once the daemon has stayed quiet this much longer (ms): trim
 * malloc, then drop the program's pages (program_pages.ts). Not at the collection itself: memory
 * is still being freed just after it (V8 releases what dead objects held outside its heap on its
 * worker threads): with 100 jobs after start-up, a trim at the collection once left 1.4 MB (one
 * run in three) that a trim 300 ms later gave back. One trim, not one at each moment: the second
 * cost the next respawn the faults of taking that memory in again (bench respawn p90 8.3 ms
 * against 6.9 with the one trim at the collection, 300 respawns each; with the one trim here, 7.2
 * against 7.8, 120 each). And the pages go last, after everything the daemon runs before it
 * sleeps (this timer included): dropped at the collection, the program's file-backed PSS with 100
 * jobs was 0.4 to 3.4 MB below an empty Deno's; dropped in this step, 3.3 to 7.9 MB below
 * (scripts/footprint.ts --only memory).
 */
export const LATE_STEP_MS = 300;

/** Starts a timer that does not keep the process alive (the real one: an unref'd setTimeout). */
export type QuietTimer = (fn: () => void, ms: number) => void;

const unrefTimer: QuietTimer = (fn, ms) => Deno.unrefTimer(setTimeout(fn, ms));

export class IdleGc {
  #last = 0;
  #armed = false;
  /** The step after a compacting collection (LATE_STEP_MS) is waiting for its turn. */
  #lateArmed = false;
  /** V8's heapTotal after the last compacting collection (none yet: 0). */
  #compactedAt = 0;
  /** Whether a collection ran yet (the first waits only for `startUpQuietMs` of quiet). */
  #collected = false;
  readonly #gc: GcFunction | undefined;

  constructor(
    gc = (globalThis as { gc?: GcFunction }).gc,
    private readonly heapTotal: () => number = () => Deno.memoryUsage().heapTotal,
    private readonly setTimer: QuietTimer = unrefTimer,
    /** Reads which program pages may go, at the collection; what it returns drops them later. */
    private readonly prepareDrop: () => PageDrop | null = preparePageDrop,
    private readonly trim: () => void = mallocTrim,
    private readonly now: () => number = () => performance.now(),
    private readonly startUpQuietMs: number = STARTUP_QUIET_MS,
  ) {
    this.#gc = gc;
  }

  /** Whether V8's `gc` is there (--expose-gc): without it, this does nothing. */
  get enabled(): boolean {
    return this.#gc !== undefined;
  }

  /**
   * Something happened: collect once things have been quiet for IDLE_GC_MS (the first time, the
   * end of the start-up, for STARTUP_QUIET_MS).
   */
  activity(): void {
    if (!this.#gc) return;
    this.#last = this.now();
    if (this.#armed) return;
    this.#armed = true;
    this.#whenQuiet(this.#collected ? IDLE_GC_MS : this.startUpQuietMs, () => {
      this.#armed = false;
      this.collect();
    });
  }

  /** Run `fn` once the daemon has been quiet for `quietMs` (the wait is put off while it is busy). */
  #whenQuiet(quietMs: number, fn: () => void, wait = quietMs): void {
    this.setTimer(() => {
      const quiet = this.now() - this.#last;
      if (quiet < quietMs) return this.#whenQuiet(quietMs, fn, quietMs - quiet);
      fn();
    }, wait);
  }

  /** The collection itself (what the quiet timer runs). */
  collect(): void {
    if (!this.#gc) return;
    this.#collected = true;
    if (this.heapTotal() >= this.#compactedAt + COMPACT_AFTER_GROWTH) {
      this.#gc(COMPACTING_GC);
      this.#compactedAt = this.heapTotal();
      // Pages dropped only after a big burst (start-up, a storm): after each small one (a
      // respawn, a query) the next would map its code again, ~2 ms more for a respawn (bench,
      // p50 3.2 -> 4.9-6.6 ms).
      if (!this.#lateArmed) {
        this.#lateArmed = true;
        // The mappings are read now, the pages go at the late step (program_pages.ts).
        const dropPages = this.prepareDrop();
        this.#whenQuiet(LATE_STEP_MS, () => {
          this.#lateArmed = false;
          this.trim();
          dropPages?.();
        });
      }
    } else {
      this.#gc(YOUNG_GC);
      this.trim();
    }
  }
}
