/**
 * The daemon's own log: one time-stamped line per lifecycle fact, to stderr and appended to
 * LOG_DIR/upkeep.log. Lines are buffered and written together once the current piece of work is
 * done (a microtask later), so logging never sits between a crash and its respawn.
 */

export class DaemonLog {
  #file: Deno.FsFile | null = null;
  readonly #enc = new TextEncoder();
  #pending: string[] = [];
  #scheduled = false;

  constructor(readonly path: string, readonly debug: boolean) {
    try {
      this.#file = Deno.openSync(path, { append: true, create: true });
    } catch (e) {
      console.error(`upkeep: cannot open ${path}: ${e instanceof Error ? e.message : e}`);
    }
  }

  /** Log a line; `detail` lines (event handling) are written only with --debug. */
  write(message: string, detail = false): void {
    if (detail && !this.debug) return;
    this.#pending.push(`${new Date().toISOString()} ${message}\n`);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Write out every buffered line now. */
  flush(): void {
    this.#scheduled = false;
    if (this.#pending.length === 0) return;
    const bytes = this.#enc.encode(this.#pending.join(""));
    this.#pending = [];
    writeAll((b) => Deno.stderr.writeSync(b), bytes);
    if (this.#file) writeAll((b) => this.#file!.writeSync(b), bytes);
  }

  close(): void {
    this.flush();
    try {
      this.#file?.close();
    } catch { /* closed */ }
    this.#file = null;
  }
}

/** Write every byte, or give up quietly (stderr closed, disk full: keep supervising). */
function writeAll(write: (b: Uint8Array) => number, bytes: Uint8Array): void {
  try {
    let off = 0;
    while (off < bytes.length) off += write(bytes.subarray(off));
  } catch { /* keep supervising */ }
}
