/**
 * File descriptors held in reserve for a control socket: a few opened on /dev/null. When the
 * daemon's fd table is full (jobs' log pipes and spawns took the rest) and an accept fails with
 * EMFILE or ENFILE, one is closed so that the waiting connection can be taken into its place; it
 * is opened again once a descriptor is free (the connection closed). So jobs run out of
 * descriptors first, and say so (`cannot open log ...: Too many open files`), while the sockets
 * still answer. A failing open is tried again at the next refill, never in a loop.
 */

export class FdReserve {
  readonly #held: Deno.FsFile[] = [];
  #waiters: (() => void)[] = [];
  #closed = false;

  constructor(readonly size: number) {
    this.refill();
  }

  /** Descriptors held now. */
  get held(): number {
    return this.#held.length;
  }

  /** Close one reserved descriptor, for a connection to take; false when none is held. */
  release(): boolean {
    const f = this.#held.pop();
    if (!f) return false;
    f.close();
    return true;
  }

  /** Open again what was released, as far as descriptors are free; wake those waiting for it. */
  refill(): void {
    if (this.#closed) return;
    let opened = false;
    while (this.#held.length < this.size) {
      try {
        this.#held.push(Deno.openSync("/dev/null"));
        opened = true;
      } catch {
        break; // still none free: tried again at the next refill
      }
    }
    if (!opened) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once a released descriptor is back in the reserve, or after `ms`. */
  returned(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        resolve();
      }, ms);
      this.#waiters.push(waiter);
    });
  }

  close(): void {
    this.#closed = true;
    for (const f of this.#held.splice(0)) f.close();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/** True when `e` says the daemon (EMFILE) or the system (ENFILE) has no descriptor free. */
export function outOfDescriptors(e: unknown): boolean {
  return e instanceof Error && e.message.includes("Too many open files");
}
