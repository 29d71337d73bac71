/**
 * Exactly-once for logs whose lines pass through user space (timestamps, markers). Bytes are
 * moved from the pipe into a spool file with splice(2) (a byte is then either still in the pipe or
 * in the spool, whatever kills the daemon), and the spool is turned into log lines under a small
 * record written before each log write:
 *
 *   { done: spool offset P, log inode and size L;  pending: P' and L' of the write under way }
 *
 * A new daemon reads the record and the log's size: the write under way happened when the log
 * reached L', did not when it is still L, and is undone (truncated back to L) when it stopped in
 * between; the spool is processed again from there, with new timestamps for the lines redone. One
 * window is left: a log truncated or replaced by someone else while no daemon ran (then the write
 * under way is taken as done). Files: STATE_DIR/logs/NAME.spool and NAME.spool.rec.
 */

import { c, cstr, decodeStatx, O_CLOEXEC, O_CREAT, O_RDWR, SPLICE_F_NONBLOCK } from "./libc.ts";
import { AT_EMPTY_PATH, STATX_BASIC, statxBuffer } from "./libc.ts";

const MAGIC = 0x314b5055; // "UPK1"
const RECORD_SIZE = 64;
/** The spool is emptied once everything in it is written and it holds more than this. */
export const SPOOL_RESET_BYTES = 1024 * 1024;

export interface SpoolRecord {
  /** Spool bytes already turned into log lines. */
  readonly done: number;
  /** The log file's inode and size after them. */
  readonly ino: bigint;
  readonly logSize: number;
  /** The write under way, if any: spool offset and log size once it is done. */
  readonly pending: { readonly done: number; readonly logSize: number } | null;
}

export function encodeRecord(r: SpoolRecord): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(RECORD_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint32(4, r.pending ? 1 : 0, true);
  v.setBigUint64(8, BigInt(r.done), true);
  v.setBigUint64(16, r.ino, true);
  v.setBigUint64(24, BigInt(r.logSize), true);
  v.setBigUint64(32, BigInt(r.pending?.done ?? 0), true);
  v.setBigUint64(40, BigInt(r.pending?.logSize ?? 0), true);
  return b;
}

export function decodeRecord(b: Uint8Array): SpoolRecord | null {
  if (b.length < RECORD_SIZE) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint32(0, true) !== MAGIC) return null;
  const pending = v.getUint32(4, true) === 1;
  return {
    done: Number(v.getBigUint64(8, true)),
    ino: v.getBigUint64(16, true),
    logSize: Number(v.getBigUint64(24, true)),
    pending: pending
      ? { done: Number(v.getBigUint64(32, true)), logSize: Number(v.getBigUint64(40, true)) }
      : null,
  };
}

/**
 * Where to go on from after a daemon stopped (pure): the spool offset to process from, and the
 * log size to cut back to (a write cut short), given the record, the spool's size and the log
 * file found at the path (its inode and size).
 */
export function resumePoint(
  rec: SpoolRecord | null,
  spoolSize: number,
  log: { readonly ino: bigint; readonly size: number },
): { from: number; truncateLogTo: number | null } {
  if (!rec) return { from: 0, truncateLogTo: null };
  let from = rec.done, cut: number | null = null;
  if (rec.pending) {
    const p = rec.pending;
    if (log.ino !== rec.ino || log.size >= p.logSize || log.size < rec.logSize) {
      from = p.done; // written (or the log was replaced: taken as written)
    } else if (log.size > rec.logSize) {
      cut = rec.logSize; // cut short: undone, then redone
    }
  }
  // Past the end: the spool was emptied after everything in it was written.
  return { from: from > spoolSize ? spoolSize : from, truncateLogTo: cut };
}

export class Spool {
  /** Bytes in the spool. */
  size = 0;
  /** Of which turned into log lines. */
  done = 0;
  readonly #offset = new BigInt64Array(1);

  private constructor(readonly path: string, readonly fd: number, readonly recFd: number) {}

  /** Open (creating) the spool and its record; null when the state dir refuses. */
  static async open(path: string): Promise<{ spool: Spool; record: SpoolRecord | null } | null> {
    const flags = O_RDWR | O_CREAT | O_CLOEXEC;
    const fd = await c().openAsync(cstr(path), flags, 0o600);
    if (fd < 0) return null;
    const recFd = await c().openAsync(cstr(`${path}.rec`), flags, 0o600);
    if (recFd < 0) {
      c().close(fd);
      return null;
    }
    const spool = new Spool(path, fd, recFd);
    const stx = statxBuffer();
    if ((await c().statxAsync(fd, cstr(""), AT_EMPTY_PATH, STATX_BASIC, stx)) === 0) {
      spool.size = decodeStatx(stx).size;
    }
    const raw = new Uint8Array(RECORD_SIZE);
    const n = Number(await c().preadAsync(recFd, raw, BigInt(RECORD_SIZE), 0n));
    return { spool, record: n === RECORD_SIZE ? decodeRecord(raw) : null };
  }

  /** Unwritten bytes in the spool. */
  get unwritten(): number {
    return this.size - this.done;
  }

  /** Move `n` bytes from pipe `pipeFd` into the spool: bytes moved (maybe fewer), -1 on error. */
  async fill(pipeFd: number, n: number): Promise<number> {
    let moved = 0;
    while (moved < n) {
      this.#offset[0] = BigInt(this.size);
      const r = Number(
        await c().spliceAsync(
          pipeFd,
          null,
          this.fd,
          this.#offset,
          BigInt(n - moved),
          SPLICE_F_NONBLOCK,
        ),
      );
      if (r <= 0) return moved > 0 ? moved : -1;
      this.size += r;
      moved += r;
    }
    return moved;
  }

  /** The unwritten bytes. */
  async unwrittenBytes(): Promise<Uint8Array> {
    const buf = new Uint8Array(this.unwritten);
    let off = 0;
    while (off < buf.length) {
      const r = Number(
        await c().preadAsync(
          this.fd,
          buf.subarray(off),
          BigInt(buf.length - off),
          BigInt(this.done + off),
        ),
      );
      if (r <= 0) break;
      off += r;
    }
    return buf.subarray(0, off);
  }

  /** Write the record; false when the state dir refuses. */
  async record(r: SpoolRecord): Promise<boolean> {
    const b = encodeRecord(r);
    return Number(await c().pwriteAsync(this.recFd, b, BigInt(b.length), 0n)) === b.length;
  }

  /**
   * Empty the spool once all of it is written. Nothing may be filled in before this returns true:
   * until the record says so, a new daemon would take new bytes for old ones.
   */
  async reset(ino: bigint, logSize: number): Promise<boolean> {
    if (this.unwritten !== 0) return false;
    if (this.size > 0) {
      if ((await c().ftruncateAsync(this.fd, 0n)) !== 0) return false;
      this.size = 0;
      this.done = 0;
    }
    return await this.record({ done: 0, ino, logSize, pending: null });
  }

  /** Close; with `remove` (an empty spool of an instance that ended), delete both files. */
  close(remove: boolean): void {
    c().close(this.fd);
    c().close(this.recFd);
    if (remove) {
      c().unlink(cstr(this.path));
      c().unlink(cstr(`${this.path}.rec`));
    }
  }
}
