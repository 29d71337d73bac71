/**
 * Where `upkeep run` sends a job's output: the log file (one time stamp per line, appended with
 * writeSync so no tail is lost), stdout live (terminal or --tee), and a bounded buffer that
 * --quiet-success prints only when the run fails.
 */

import { LineStamper, stampPrefix } from "./stamp.ts";

/** Write all of `data` to a file (writeSync may write less than asked). */
export function writeAll(file: { writeSync(p: Uint8Array): number }, data: Uint8Array): void {
  for (let at = 0; at < data.length;) at += file.writeSync(data.subarray(at));
}

const QUIET_BUFFER_BYTES = 1 << 20;
const encoder = new TextEncoder();

export interface SinkOptions {
  readonly log: Deno.FsFile | null;
  /** Copy output to stdout as it comes. */
  readonly live: boolean;
  /** Keep the last 1 MiB of output to print on failure. */
  readonly buffer: boolean;
}

export class OutputSink {
  readonly #opts: SinkOptions;
  #buffered: Uint8Array[] = [];
  #bufferedBytes = 0;
  #dropped = false;

  constructor(opts: SinkOptions) {
    this.#opts = opts;
  }

  /** Copy one process's merged stdout+stderr to the sinks until EOF (or until cancelled). */
  async pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const stamper = new LineStamper();
    try {
      for await (const chunk of stream) this.#write(chunk, stamper);
    } catch {
      // cancelled: keep what was read
    } finally {
      if (this.#opts.log) writeAll(this.#opts.log, stamper.flush());
    }
  }

  #write(chunk: Uint8Array, stamper: LineStamper): void {
    if (this.#opts.log) writeAll(this.#opts.log, stamper.push(chunk, Date.now()));
    if (this.#opts.live) writeAll(Deno.stdout, chunk);
    if (this.#opts.buffer) {
      this.#buffered.push(chunk.slice());
      this.#bufferedBytes += chunk.length;
      while (this.#bufferedBytes > QUIET_BUFFER_BYTES && this.#buffered.length > 1) {
        this.#bufferedBytes -= this.#buffered.shift()!.length;
        this.#dropped = true;
      }
    }
  }

  /** A line from upkeep itself in the log: `STAMP [upkeep] text`. */
  note(text: string): void {
    if (this.#opts.log) {
      writeAll(this.#opts.log, encoder.encode(`${stampPrefix(Date.now())}[upkeep] ${text}\n`));
    }
  }

  /** Print the buffered output (for --quiet-success on failure). */
  printBuffered(): void {
    if (this.#dropped) {
      writeAll(Deno.stdout, encoder.encode("[upkeep] \u2026 earlier output dropped \u2026\n"));
    }
    for (const c of this.#buffered) writeAll(Deno.stdout, c);
    this.#buffered = [];
    this.#bufferedBytes = 0;
  }
}
