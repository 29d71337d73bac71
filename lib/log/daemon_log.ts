/**
 * The daemon's own log: one time-stamped line per fact, to stderr and appended to
 * LOG_DIR/upkeep.log. Lines are buffered and written together once the current piece of work is
 * done (a microtask later), so logging never sits between a crash and its respawn.
 *
 * What is written (as Upstart, whose state changes need --verbose):
 * - `debug` lines (goal and state changes) only with --debug;
 * - `info` lines (a process started or ended, a respawn) always, but at most RATE_LINES per job
 *   in RATE_WINDOW_MS; what is held back is counted and said in one line when the window ends;
 * - `notice` lines (failures, give-ups, configuration) always.
 *
 * The file is rotated by size: past `maxBytes`, upkeep.log becomes upkeep.log.1 (.1 -> .2 ..., the
 * oldest beyond `keep` removed) and a new upkeep.log is started. A log that cannot be written
 * (disk full, removed) never stops the daemon: the error is said once on stderr.
 */

import type { LogLevel } from "../supervisor/instance.ts";

/** At most this many `info` lines per job ... */
export const RATE_LINES = 20;
/** ... in this many milliseconds. */
export const RATE_WINDOW_MS = 10_000;

interface Rate {
  windowStart: number;
  lines: number;
  suppressed: number;
}

export interface DaemonLogOptions {
  readonly debug: boolean;
  /** Rotate upkeep.log past this many bytes (0: never). */
  readonly maxBytes?: number;
  /** Old files to keep (upkeep.log.1 ... upkeep.log.N). */
  readonly keep?: number;
  /** Clock (ms) for the rate limit; tests pass a fake. */
  readonly now?: () => number;
}

export class DaemonLog {
  #file: Deno.FsFile | null = null;
  #size = 0;
  readonly #enc = new TextEncoder();
  #pending: string[] = [];
  #scheduled = false;
  readonly #rates = new Map<string, Rate>();
  #summaryTimer: number | undefined;
  #failed = false;
  readonly debug: boolean;
  readonly #maxBytes: number;
  readonly #keep: number;
  readonly #now: () => number;

  constructor(readonly path: string, options: DaemonLogOptions | boolean) {
    const o = typeof options === "boolean" ? { debug: options } : options;
    this.debug = o.debug;
    this.#maxBytes = o.maxBytes ?? 1024 * 1024;
    this.#keep = o.keep ?? 5;
    this.#now = o.now ?? (() => performance.now());
    this.#open();
  }

  #open(): void {
    try {
      this.#file = Deno.openSync(this.path, { append: true, create: true, mode: 0o640 });
      this.#size = this.#file.statSync().size;
    } catch (e) {
      this.#file = null;
      this.#fail(`cannot open ${this.path}: ${e instanceof Error ? e.message : e}`);
    }
  }

  /**
   * Log a line. `level` (default `notice`; `true` means `debug`, for older callers) and `key`
   * (the job it is about, for the rate limit of `info` lines).
   */
  write(message: string, level: LogLevel | boolean = "notice", key?: string): void {
    const lv: LogLevel = level === true ? "debug" : level === false ? "notice" : level;
    if (lv === "debug" && !this.debug) return;
    if (lv === "info" && key !== undefined && !this.debug && !this.#admit(key)) return;
    this.#push(message);
  }

  #push(message: string): void {
    this.#pending.push(`${new Date().toISOString()} ${message}\n`);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Rate limit of `info` lines: true to write this one. */
  #admit(key: string): boolean {
    const now = this.#now();
    let r = this.#rates.get(key);
    if (r && now - r.windowStart >= RATE_WINDOW_MS) {
      this.#summarise(key, r);
      r = undefined;
    }
    if (!r) {
      r = { windowStart: now, lines: 0, suppressed: 0 };
      this.#rates.set(key, r);
    }
    if (r.lines < RATE_LINES) {
      r.lines++;
      return true;
    }
    r.suppressed++;
    if (this.#summaryTimer === undefined) {
      this.#armSummary();
    }
    return false;
  }

  #armSummary(): void {
    const id = Number(setTimeout(() => {
      this.#summaryTimer = undefined;
      this.#summariseDue();
    }, RATE_WINDOW_MS));
    Deno.unrefTimer(id);
    this.#summaryTimer = id;
  }

  #summarise(key: string, r: Rate): void {
    this.#rates.delete(key);
    if (r.suppressed > 0) {
      this.#push(
        `${key}: ${r.suppressed} more process start, exit and respawn lines in ` +
          `${RATE_WINDOW_MS / 1000} s not logged`,
      );
    }
  }

  /** Say what was held back in windows that have ended; forget quiet jobs. */
  #summariseDue(): void {
    const now = this.#now();
    let waiting = false;
    for (const [key, r] of [...this.#rates]) {
      if (now - r.windowStart >= RATE_WINDOW_MS) this.#summarise(key, r);
      else if (r.suppressed > 0) waiting = true;
    }
    if (waiting && this.#summaryTimer === undefined) {
      this.#armSummary();
    }
  }

  /** Write out every buffered line now. */
  flush(): void {
    this.#scheduled = false;
    if (this.#pending.length === 0) return;
    const bytes = this.#enc.encode(this.#pending.join(""));
    this.#pending = [];
    writeAll((b) => Deno.stderr.writeSync(b), bytes);
    if (!this.#file) return;
    if (this.#maxBytes > 0 && this.#size + bytes.length > this.#maxBytes && this.#size > 0) {
      this.#rotate();
    }
    const file = this.#file;
    if (!file) return;
    try {
      writeAll((b) => file.writeSync(b), bytes, true);
      this.#size += bytes.length;
      this.#failed = false;
    } catch (e) {
      this.#fail(`cannot write ${this.path}: ${e instanceof Error ? e.message : e}`);
    }
  }

  /** upkeep.log -> upkeep.log.1 -> ... -> upkeep.log.KEEP (dropped), then a fresh upkeep.log. */
  #rotate(): void {
    try {
      this.#file?.close();
    } catch { /* closed */ }
    this.#file = null;
    try {
      for (let i = this.#keep; i >= 1; i--) {
        const from = i === 1 ? this.path : `${this.path}.${i - 1}`;
        const to = `${this.path}.${i}`;
        try {
          if (i === this.#keep) Deno.removeSync(to);
        } catch { /* not there */ }
        try {
          Deno.renameSync(from, to);
        } catch { /* not there */ }
      }
      if (this.#keep === 0) Deno.removeSync(this.path);
    } catch { /* keep going with a fresh file */ }
    this.#open();
  }

  /** Say a failure of the log itself once (until a write succeeds again). */
  #fail(message: string): void {
    if (this.#failed) return;
    this.#failed = true;
    writeAll(
      (b) => Deno.stderr.writeSync(b),
      this.#enc.encode(`${new Date().toISOString()} upkeep: ${message}\n`),
    );
  }

  close(): void {
    if (this.#summaryTimer !== undefined) clearTimeout(this.#summaryTimer);
    this.#summaryTimer = undefined;
    for (const [key, r] of [...this.#rates]) this.#summarise(key, r);
    this.flush();
    try {
      this.#file?.close();
    } catch { /* closed */ }
    this.#file = null;
  }
}

/** Write every byte; errors are the caller's when `rethrow`, else dropped (stderr closed). */
function writeAll(write: (b: Uint8Array) => number, bytes: Uint8Array, rethrow = false): void {
  try {
    let off = 0;
    while (off < bytes.length) off += write(bytes.subarray(off));
  } catch (e) {
    if (rethrow) throw e;
  }
}
