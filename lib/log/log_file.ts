/**
 * A job's log file as the daemon writes it: opened O_RDWR|O_CREAT|O_NOFOLLOW, mode 0640, never
 * O_APPEND (splice(2) refuses it), so the daemon keeps the offset itself: the file's size, checked
 * against the path before every write. A file removed or renamed away (deleted to free space, or
 * moved by an outside logrotate) is reopened by its path; a file truncated behind our back
 * (logrotate's copytruncate) is written from its new end. Every call that touches the disk is a
 * nonblocking FFI call (a worker thread); see libc.ts for how a failure gets its words.
 */

import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  c,
  cstr,
  decodeStatx,
  ELOOP,
  ENOENT,
  errno,
  errorText,
  O_CLOEXEC,
  O_CREAT,
  O_NOFOLLOW,
  O_RDWR,
  SPLICE_F_NONBLOCK,
  STATX_BASIC,
  statxBuffer,
} from "./libc.ts";

/** Mode of a log file the daemon creates (Upstart's: owner read-write, group read). */
export const LOG_FILE_MODE = 0o640;
const NEWLINE = new Uint8Array([10]);
const EMPTY = cstr("");

export class LogFile {
  #fd = -1;
  #ino = 0n;
  #dev = 0n;
  /** Bytes in the file: where the next write goes. */
  size = 0;
  /** Writes that wrote something (splices included), ever. */
  writes = 0;
  readonly #path: Uint8Array<ArrayBuffer>;
  /** statx(2) buffer and splice offset: made at their first use (a job that never writes, never). */
  #stxBuffer: Uint8Array<ArrayBuffer> | null = null;
  #offsetBuffer: BigInt64Array<ArrayBuffer> | null = null;

  get #stx(): Uint8Array<ArrayBuffer> {
    return this.#stxBuffer ??= statxBuffer();
  }

  get #offset(): BigInt64Array<ArrayBuffer> {
    return this.#offsetBuffer ??= new BigInt64Array(1);
  }

  constructor(readonly path: string) {
    this.#path = cstr(path);
  }

  get isOpen(): boolean {
    return this.#fd >= 0;
  }

  /** The file's inode (for the line-mode record). */
  get ino(): bigint {
    return this.#ino;
  }

  /** Open (creating) the file; null, or why it cannot be opened. */
  async open(): Promise<string | null> {
    this.close();
    const flags = O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC; // read: its last byte
    let fd = await c().openAsync(this.#path, flags, LOG_FILE_MODE);
    if (fd < 0) {
      fd = c().open(this.#path, flags, LOG_FILE_MODE); // again here, for errno
      if (fd < 0) {
        const e = errno();
        return `cannot open log ${this.path}: ${
          e === ELOOP ? "it is a symbolic link" : errorText(e)
        }`;
      }
    }
    if ((await c().statxAsync(fd, EMPTY, AT_EMPTY_PATH, STATX_BASIC, this.#stx)) !== 0) {
      c().close(fd);
      return `cannot open log ${this.path}: cannot stat it`;
    }
    const st = decodeStatx(this.#stx);
    this.#fd = fd;
    this.#ino = st.ino;
    this.#dev = st.dev;
    this.size = st.size;
    return null;
  }

  /** statx(2) of the path (not following a symlink) into #stx, on a worker thread: 0 or -1. */
  #statPath(): Promise<number> {
    return c().statxAsync(AT_FDCWD, this.#path, AT_SYMLINK_NOFOLLOW, STATX_BASIC, this.#stx);
  }

  /** Whether there is no file at the path (a statx that fails for another reason says there is). */
  async missing(): Promise<boolean> {
    if ((await this.#statPath()) === 0) return false;
    // again here, for errno (the nonblocking call ran on another thread)
    return c().statx(AT_FDCWD, this.#path, AT_SYMLINK_NOFOLLOW, STATX_BASIC, this.#stx) !== 0 &&
      errno() === ENOENT;
  }

  /**
   * Make sure the path is still this file, at the size we think: "reopen" when it was removed or
   * replaced (the caller opens it again), else "ok" (a truncated file is written from its end).
   */
  async check(): Promise<"ok" | "reopen"> {
    if (this.#fd < 0) return "reopen";
    if ((await this.#statPath()) !== 0) return "reopen";
    const st = decodeStatx(this.#stx);
    if (st.ino !== this.#ino || st.dev !== this.#dev) return "reopen";
    if (st.size < this.size) this.size = st.size;
    return "ok";
  }

  /** Move `n` bytes from pipe `pipeFd` to the end of the file: bytes moved, or why not. */
  async spliceFrom(pipeFd: number, n: number): Promise<number | string> {
    this.#offset[0] = BigInt(this.size);
    const r = Number(
      await c().spliceAsync(pipeFd, null, this.#fd, this.#offset, BigInt(n), SPLICE_F_NONBLOCK),
    );
    if (r > 0) {
      this.size += r;
      this.writes++;
      return r;
    }
    // Learn why: one byte, here (the pipe holds at least n bytes, so only the file can refuse).
    this.#offset[0] = BigInt(this.size);
    const probe = Number(c().splice(pipeFd, null, this.#fd, this.#offset, 1n, SPLICE_F_NONBLOCK));
    if (probe > 0) {
      this.size += probe; // (a byte that fits in the last block of a full disk: not recovery)
      return probe;
    }
    return this.#writeError(probe === 0 ? 0 : errno());
  }

  /** Write `bytes` at the end of the file: bytes written (maybe fewer), or why none were. */
  async write(bytes: Uint8Array): Promise<number | string> {
    const buf = bytes as Uint8Array<ArrayBuffer>;
    const r = Number(await c().pwriteAsync(this.#fd, buf, BigInt(buf.length), BigInt(this.size)));
    if (r > 0) {
      this.size += r;
      this.writes++;
      return r;
    }
    if (buf.length === 0) return 0;
    const probe = Number(c().pwrite(this.#fd, buf, 1n, BigInt(this.size)));
    if (probe > 0) {
      this.size += probe; // (a byte that fits in the last block of a full disk: not recovery)
      return probe;
    }
    return this.#writeError(probe === 0 ? 0 : errno());
  }

  /** Write all of `bytes` or report why not (after a partial write the size says how far). */
  async writeAll(bytes: Uint8Array): Promise<string | null> {
    let off = 0;
    while (off < bytes.length) {
      const r = await this.write(bytes.subarray(off));
      if (typeof r === "string") return r;
      off += r;
    }
    return null;
  }

  /** Cut the file back to `size` bytes (undo a partial write); false when refused. */
  async truncate(size: number): Promise<boolean> {
    if ((await c().ftruncateAsync(this.#fd, BigInt(size))) !== 0) return false;
    this.size = size;
    return true;
  }

  /** Whether the file's last byte is a newline (true for an empty file). */
  async endsWithNewline(): Promise<boolean> {
    if (this.size === 0) return true;
    const b = new Uint8Array(1);
    const r = Number(await c().preadAsync(this.#fd, b, 1n, BigInt(this.size - 1)));
    return r !== 1 || b[0] === 10;
  }

  /** Add the newline a process left out. */
  async completeLine(): Promise<void> {
    if (!(await this.endsWithNewline())) await this.write(NEWLINE);
  }

  #writeError(e: number): string {
    return `cannot write log ${this.path}: ${e === 0 ? "nothing was written" : errorText(e)}`;
  }

  close(): void {
    if (this.#fd >= 0) c().close(this.#fd);
    this.#fd = -1;
  }
}
