/**
 * Timers for any delay. `setTimeout` takes at most 2^31 - 1 ms (24.8 days) and fires at once for
 * more, so a `kill timeout 2147484` (a valid Upstart value, as is anything up to 2^63 - 1 s) would
 * SIGKILL a stopping job at once instead of waiting. A longer delay is waited out in steps of the
 * largest delay setTimeout takes.
 */

/** The longest delay setTimeout honours. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export class LongTimers {
  #next = 1;
  readonly #native = new Map<number, number>();

  constructor(
    readonly now: () => number = () => performance.now(),
    readonly unref = false,
    /** The longest single setTimeout (smaller in tests). */
    readonly chunkMs = MAX_TIMEOUT_MS,
  ) {}

  /** Call `fn` once, `ms` from now; returns an id for clear(). */
  set(ms: number, fn: () => void): number {
    const id = this.#next++;
    this.#arm(id, this.now() + Math.max(0, ms), fn);
    return id;
  }

  clear(id: number): void {
    const native = this.#native.get(id);
    if (native !== undefined) clearTimeout(native);
    this.#native.delete(id);
  }

  /** How many timers are armed (for tests). */
  get size(): number {
    return this.#native.size;
  }

  #arm(id: number, due: number, fn: () => void): void {
    const left = Math.max(0, due - this.now());
    const native = Number(setTimeout(() => {
      if (left > this.chunkMs) {
        this.#arm(id, due, fn);
        return;
      }
      this.#native.delete(id);
      fn();
    }, Math.min(left, this.chunkMs)));
    if (this.unref) Deno.unrefTimer(native);
    this.#native.set(id, native);
  }
}

/** One timer for any delay, unref'd: it does not keep the process alive. */
const unrefTimers = new LongTimers(undefined, true);

/** `setTimeout(fn, ms)` for any delay, unref'd. */
export function setLongTimeout(fn: () => void, ms: number): number {
  return unrefTimers.set(ms, fn);
}
