/**
 * How much line-mode log work (framing lines in JavaScript, on the daemon's thread) may be done
 * between two turns of the event loop, shared among the logs that want some. A log takes a share
 * of `perShare` units, frames at most that much, then says what it spent (the rest goes back).
 * Shares are given while the turn has units left (so a turn ends at most a share past `perTurn`);
 * then the next turn is asked for at once with `nextTurn()`, a call answered only in a later turn
 * of the loop, after the control requests, timers and child exits that were ready. Shares are
 * given in the order they were asked for: round-robin, no log starves the others. A log that
 * waits reads nothing meanwhile: its pipe fills and its writer waits (the pipe is the
 * back-pressure, as for plain logs). Pure: the turn is given.
 */

/** Units a log may spend now; `spend` gives back what it did not use (or counts an overrun). */
export interface Share {
  readonly units: number;
  spend(cost: number): void;
}

export class TurnBudget {
  #left: number;
  readonly #waiting: ((share: Share) => void)[] = [];
  #turning = false;
  /** Turns begun so far. */
  #turns = 0;

  constructor(
    readonly perTurn: number,
    readonly perShare: number,
    private readonly nextTurn: () => Promise<unknown>,
  ) {
    this.#left = perTurn;
  }

  /** Units left in this turn (negative: overspent). */
  get left(): number {
    return this.#left;
  }

  /** Shares asked for and not given yet. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** A share of this turn, or of a later one once every share asked for before it was given. */
  take(): Promise<Share> {
    if (this.#waiting.length === 0 && this.#left > 0) {
      const share = this.#share();
      if (this.#left <= 0) this.#turn();
      return Promise.resolve(share);
    }
    const share = new Promise<Share>((give) => this.#waiting.push(give));
    this.#turn();
    return share;
  }

  #share(): Share {
    const units = this.perShare; // (a turn may end up to a share past perTurn: bounded still)
    const turn = this.#turns;
    this.#left -= units;
    let spent = false;
    return {
      units,
      spend: (cost: number) => {
        if (spent) return;
        spent = true;
        // Spent in a later turn (after an await): the work is this turn's, its units are gone.
        this.#left += turn === this.#turns ? units - cost : -cost;
        this.#give();
      },
    };
  }

  #give(): void {
    while (this.#waiting.length && this.#left > 0) this.#waiting.shift()!(this.#share());
    // Spent: the next turn is asked for now, not when a log next wants a share (a busy log's
    // writes take longer than the call: it then finds a fresh turn instead of waiting for one).
    if (this.#waiting.length || this.#left <= 0) this.#turn();
  }

  #turn(): void {
    if (this.#turning) return;
    this.#turning = true;
    const next = () => {
      this.#turning = false;
      this.#turns++;
      this.#left = this.perTurn;
      this.#give();
    };
    this.nextTurn().then(next, next);
  }
}
