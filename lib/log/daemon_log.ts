/**
 * The daemon's own log: one time-stamped line per lifecycle fact, to stderr and appended to
 * LOG_DIR/upkeep.log. Event-handling detail is written only with --debug.
 */

export class DaemonLog {
  #file: Deno.FsFile | null = null;
  readonly #enc = new TextEncoder();

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
    const line = `${new Date().toISOString()} ${message}\n`;
    const bytes = this.#enc.encode(line);
    try {
      Deno.stderr.writeSync(bytes);
    } catch { /* stderr closed */ }
    try {
      this.#file?.writeSync(bytes);
    } catch { /* disk full: keep supervising */ }
  }

  close(): void {
    try {
      this.#file?.close();
    } catch { /* closed */ }
    this.#file = null;
  }
}
