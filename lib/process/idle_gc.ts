/**
 * One full garbage collection once the daemon has been quiet for IDLE_GC_MS after a burst of work
 * (start-up, a crash storm, a flood of queries), so that its memory goes back down promptly and
 * stays flat. It stands in for V8's memory reducer, which the daemon runs without
 * (`--no-memory-reducer`): that one wakes the daemon up on its own timers for tens of seconds
 * after any activity, this one fires once, only after activity, and never when nothing happens.
 * Needs `--expose-gc` (DAEMON_V8_FLAGS); does nothing without it. The memory malloc then holds
 * free goes back to the system too (malloc_trim).
 */

import { mallocTrim } from "./ffi.ts";

/** Quiet time after the last activity before the collection. */
export const IDLE_GC_MS = 500;

export class IdleGc {
  #last = 0;
  #timer: number | undefined;
  readonly #gc: (() => void) | undefined;

  constructor(gc = (globalThis as { gc?: () => void }).gc) {
    this.#gc = gc;
  }

  /** Something happened: collect once things have been quiet for IDLE_GC_MS. */
  activity(): void {
    if (!this.#gc) return;
    this.#last = performance.now();
    if (this.#timer === undefined) this.#arm(IDLE_GC_MS);
  }

  #arm(ms: number): void {
    this.#timer = Number(setTimeout(() => {
      this.#timer = undefined;
      const quiet = performance.now() - this.#last;
      if (quiet < IDLE_GC_MS) return this.#arm(IDLE_GC_MS - quiet);
      this.#gc?.();
      mallocTrim();
    }, ms));
    Deno.unrefTimer(this.#timer);
  }
}
