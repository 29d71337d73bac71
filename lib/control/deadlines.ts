/**
 * Deadlines of the control connections (read, write, `waiting` lines), checked by one timer that
 * runs only while some deadline is pending, every TICK_MS.
 *
 * Why not a setTimeout per deadline: in Deno a cleared timer still wakes the process when it
 * would have fired (measured: a 4 s timer cleared at once still ends an epoll_wait 4 s later). A
 * request armed three of them (5 s read, 5 s `waiting` interval, 10 s write), so each `initctl
 * status` woke an idle daemon three times or more, seconds after it was answered. Now a burst of
 * requests costs one tick after it, and a deadline fires at most TICK_MS late.
 */

/** The clock and timer this needs; the real one wraps performance.now and setTimeout. */
export interface TickClock {
  now(): number;
  set(ms: number, fn: () => void): void;
}

const realClock: TickClock = {
  now: () => performance.now(),
  set: (ms, fn) => void setTimeout(fn, ms),
};

/** How often pending deadlines are checked (the most a deadline fires late). */
export const TICK_MS = 500;

export class Deadlines {
  readonly #pending = new Map<number, { at: number; fire: () => void }>();
  #nextId = 1;
  #armed = false;

  constructor(private readonly clock: TickClock = realClock) {}

  /** Call `fire` once, `ms` from now (up to TICK_MS later), unless cancelled first. */
  add(ms: number, fire: () => void): number {
    const id = this.#nextId++;
    this.#pending.set(id, { at: this.clock.now() + ms, fire });
    this.#arm();
    return id;
  }

  /** Forget a deadline (no timer is touched: the tick stops when nothing is pending). */
  cancel(id: number): void {
    this.#pending.delete(id);
  }

  /** Deadlines pending now. */
  get size(): number {
    return this.#pending.size;
  }

  #arm(): void {
    if (this.#armed) return;
    this.#armed = true;
    this.clock.set(TICK_MS, () => this.#tick());
  }

  #tick(): void {
    this.#armed = false;
    const now = this.clock.now();
    const due: (() => void)[] = [];
    for (const [id, d] of this.#pending) {
      if (d.at > now) continue;
      this.#pending.delete(id);
      due.push(d.fire);
    }
    for (const fire of due) {
      try {
        fire();
      } catch { /* a connection's own business; the others still get theirs */ }
    }
    if (this.#pending.size > 0) this.#arm();
  }
}
