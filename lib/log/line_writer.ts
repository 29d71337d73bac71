/**
 * The line-mode half of an instance's log (timestamps or markers): whole lines at the head of the
 * pipe are framed (lib/log/lines.ts), moved into the spool with splice(2), recorded, then written;
 * after a daemon stopped anywhere, the spool and its record say where to go on (lib/log/spool.ts).
 * Each step frames at most a share of the turn's budget (lib/log/turn_budget.ts) and answers what
 * the caller is to do next: go on, wait for more output, rotate, or fail.
 */

import type { LogFile } from "./log_file.ts";
import type { LogPipe } from "./log_pipe.ts";
import { type FrameBuffer, type Framed, frameLines } from "./lines.ts";
import { linePrefix } from "./timestamps.ts";
import type { LogSettings } from "./settings.ts";
import { resumePoint, Spool, SPOOL_RESET_BYTES } from "./spool.ts";
import type { Share } from "./turn_budget.ts";

/** A partial line this long is written as a line of its own. */
export const MAX_LINE = 64 * 1024;
const EMPTY = new Uint8Array(0);

/** What to do after a step: go on, wait for more output, rotate then go on, or fail. */
export type Step = "ok" | "wait" | "rotate" | { readonly error: string };

export class LineWriter {
  readonly #work: FrameBuffer = { buf: new Uint8Array(0) };

  private constructor(readonly spool: Spool, private readonly file: LogFile) {}

  /**
   * Open the spool at `path` (made when missing) and work out, against the open log `file`, where
   * to go on from (undoing a write an earlier daemon left cut short). A string says why not.
   */
  static async open(path: string, file: LogFile): Promise<LineWriter | string> {
    const opened = await Spool.open(path);
    if (!opened) return `cannot open the spool ${path}`;
    const { spool, record } = opened;
    const resume = resumePoint(record, spool.size, { ino: file.ino, size: file.size });
    if (resume.truncateLogTo !== null && !(await file.truncate(resume.truncateLogTo))) {
      spool.close(false);
      return `cannot undo a cut-short write of ${file.path}`;
    }
    spool.done = resume.from;
    if (!(await spool.reset(file.ino, file.size)) && spool.unwritten === 0) {
      spool.close(false);
      return `cannot write the spool record ${path}.rec`;
    }
    return new LineWriter(spool, file);
  }

  /** Spool bytes not written to the log yet. */
  get unwritten(): number {
    return this.spool.unwritten;
  }

  /**
   * Frame the whole lines at the head of `pipe`, as many as `share` allows (spent here, before
   * anything is awaited), spool and write them.
   */
  async batch(pipe: LogPipe, s: LogSettings, share: Share): Promise<Step> {
    const framed = this.#frameHead(pipe, s, share.units);
    share.spend(framed.cost);
    if (framed.used === 0) return framed.full ? "rotate" : "wait";
    const moved = await this.spool.fill(pipe.fd, framed.used);
    if (moved < 0) return { error: `cannot write the spool ${this.spool.path}` };
    // Fewer than framed (the spool's disk is full): what it holds is written next, framed again.
    if (moved !== framed.used) return "ok";
    return await this.#commit(framed);
  }

  /** Write what the spool holds (after a failure, or left by an earlier daemon), within `share`. */
  async writeSpooled(s: LogSettings, capacity: number, share: Share): Promise<Step> {
    const bytes = await this.spool.unwrittenBytes();
    const framed = this.#frame(bytes, s, capacity, { final: true, budget: share.units });
    share.spend(framed.cost);
    if (framed.used === 0) return framed.full ? "rotate" : "ok";
    return await this.#commit(framed);
  }

  /**
   * Only as much of the pipe is looked at as the budget allows; when no line ends in it, all of
   * it (a long line is taken whole, as before, or cut at the partial-line limit).
   */
  #frameHead(pipe: LogPipe, s: LogSettings, budget: number): Framed {
    const n = pipe.bytes();
    const look = Math.min(n, Math.max(budget, 1));
    const head = pipe.peek(look);
    const framed = this.#frame(head, s, pipe.capacity, { more: head.length < n, budget });
    if (framed.used > 0 || framed.full || head.length >= n) return framed;
    return this.#frame(pipe.peek(n), s, pipe.capacity, { budget });
  }

  /** A new log file (rotation): recorded before anything more is spooled. */
  async rotated(): Promise<string | null> {
    return (await this.spool.reset(this.file.ino, 0))
      ? null
      : `cannot write the spool record ${this.spool.path}.rec`;
  }

  /** A busy log's framing buffer grows to a few MiB: given back once its output pauses. */
  shrink(): void {
    if (this.#work.buf.length > 64 * 1024) this.#work.buf = new Uint8Array(0);
  }

  close(remove: boolean): void {
    this.spool.close(remove && this.spool.unwritten === 0);
  }

  #frame(
    input: Uint8Array,
    s: LogSettings,
    capacity: number,
    opts: { final?: boolean; more?: boolean; budget: number },
  ): Framed {
    return frameLines(input, {
      prefix: s.timestamps ? linePrefix(s.timestamps, Date.now()) : EMPTY,
      maxOut: s.maxBytes > 0 ? s.maxBytes - this.file.size : Infinity,
      maxLine: Math.min(MAX_LINE, capacity / 2),
      cutFirst: this.file.size === 0,
      ...opts,
    }, this.#work);
  }

  /** Record, then write the framed lines; a write cut short is undone. */
  async #commit(framed: Framed): Promise<Step> {
    const spool = this.spool, file = this.file;
    const from = file.size;
    const recorded = await spool.record({
      done: spool.done,
      ino: file.ino,
      logSize: from,
      pending: { done: spool.done + framed.used, logSize: from + framed.out.length },
    });
    if (!recorded) return { error: `cannot write the spool record ${spool.path}.rec` };
    const err = await file.writeAll(framed.out);
    if (err) {
      if (file.size !== from) await file.truncate(from);
      return { error: err };
    }
    spool.done += framed.used;
    if (spool.unwritten === 0 && spool.size >= SPOOL_RESET_BYTES) {
      await spool.reset(file.ino, file.size);
    }
    return framed.full ? "rotate" : "ok";
  }
}
