/**
 * What a log does while it cannot be written (a full disk, a removed directory): the failure (said
 * once when it begins), when to try again (on new output at most once a second; on a back-off
 * timer, 1 s doubling to 10 s, that exists only while failing), the oldest whole lines dropped past
 * half the pipe so the job's writes never wait for the disk, and the notice of what was dropped.
 */

import type { LogPipe } from "./log_pipe.ts";
import { countLines, lineBoundary } from "./lines.ts";

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 10_000;

export interface LogFailure {
  /** The whole sentence: `cannot write log /var/log/upkeep/web.log: No space left on device`. */
  readonly message: string;
  /** Since when (Unix ms). */
  readonly since: number;
  droppedLines: number;
  droppedBytes: number;
  /** Of which already said in a notice in the log. */
  noticedLines: number;
  noticedBytes: number;
}

export class Failing {
  failure: LogFailure | null = null;
  #timer: number | undefined;
  #delay = RETRY_FIRST_MS;
  #nextTry = 0;

  /** `retry` is called by the back-off timer. */
  constructor(private readonly retry: () => void) {}

  /** A write failed: the failure when it begins now (to be said), null when it goes on. */
  fail(message: string): LogFailure | null {
    const now = Date.now();
    let begun: LogFailure | null = null;
    if (!this.failure) {
      begun = this.failure = {
        message,
        since: now,
        droppedLines: 0,
        droppedBytes: 0,
        noticedLines: 0,
        noticedBytes: 0,
      };
      this.#delay = RETRY_FIRST_MS;
    } else {
      this.#delay = Math.min(this.#delay * 2, RETRY_MAX_MS);
    }
    this.#nextTry = now + RETRY_FIRST_MS;
    if (this.#timer === undefined) {
      this.#timer = Number(setTimeout(() => {
        this.#timer = undefined;
        this.#nextTry = 0;
        if (this.failure) this.retry();
      }, this.#delay));
    }
    return begun;
  }

  /** Whether a write may be tried now. */
  get mayTry(): boolean {
    return !this.failure || Date.now() >= this.#nextTry;
  }

  /** A write worked: the failure that ended (null if there was none). */
  clear(): LogFailure | null {
    const f = this.failure;
    this.failure = null;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    return f;
  }

  /** Keep at most half of `pipe`: the oldest whole lines beyond are taken out and counted. */
  dropExcess(pipe: LogPipe): void {
    const f = this.failure;
    if (!f) return;
    const hold = pipe.capacity / 2;
    const n = pipe.bytes();
    if (n <= hold) return;
    const target = n - hold / 2;
    const k = lineBoundary(pipe.peek(target), target) || target;
    const dropped = pipe.take(k);
    f.droppedBytes += dropped.length;
    f.droppedLines += countLines(dropped);
  }

  /** The line that says what was dropped and not said yet, or null; `said()` once it is written. */
  notice(): { text: string; said: () => void } | null {
    const f = this.failure;
    if (!f || f.droppedBytes <= f.noticedBytes) return null;
    const lines = f.droppedLines - f.noticedLines, bytes = f.droppedBytes - f.noticedBytes;
    return {
      text: `upkeep: ${lines} lines (${bytes} bytes) of output were dropped while the log could ` +
        `not be written (${f.message})\n`,
      said: () => {
        f.noticedLines += lines;
        f.noticedBytes += bytes;
      },
    };
  }
}
