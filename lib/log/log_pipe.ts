/**
 * The FIFO an instance's processes write their output into (`STATE_DIR/logs/NAME.fifo`, in a
 * private 0700 directory). The job opens it O_RDWR through posix_spawn, so it is a reader itself:
 * it never gets SIGPIPE or EPIPE when no daemon reads; once the pipe is full (1 MiB, F_SETPIPE_SZ)
 * its writes wait until a daemon reads again. The daemon opens it O_RDWR|O_NONBLOCK too (a FIFO
 * with no writer would report end-of-file and hang-up forever). Everything here touches only
 * pipes: synchronous calls that never block.
 */

import {
  c,
  cstr,
  EAGAIN,
  EEXIST,
  EINTR,
  errno,
  errorText,
  F_GETPIPE_SZ,
  F_SETPIPE_SZ,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDWR,
  pipeBytes,
  SPLICE_F_NONBLOCK,
} from "./libc.ts";

/** The size log pipes are given (the kernel's default maximum for unprivileged users too). */
export const PIPE_SIZE = 1024 * 1024;

/**
 * Bytes of pipes this daemon may still raise to PIPE_SIZE. Without CAP_SYS_RESOURCE the kernel
 * counts every pipe of the user against pipe-user-pages-soft (16384 pages by default), and once
 * past it gives every new pipe of that user, any program's, only two pages: so the log pipes take
 * at most a quarter of it, and keep the kernel's default size (64 KiB) past that.
 */
let raiseBudget: number | null = null;

function mayRaise(): boolean {
  if (raiseBudget === null) {
    raiseBudget = Infinity;
    try {
      const caps = /CapEff:\s*([0-9a-f]+)/.exec(Deno.readTextFileSync("/proc/self/status"))?.[1];
      const sysResource = caps !== undefined && (BigInt(`0x${caps}`) >> 24n) & 1n;
      const soft = Number(Deno.readTextFileSync("/proc/sys/fs/pipe-user-pages-soft").trim());
      if (!sysResource && soft > 0) raiseBudget = (soft / 4) * 4096;
    } catch { /* no /proc: try, the kernel refuses what it must */ }
  }
  if (raiseBudget < PIPE_SIZE) return false;
  raiseBudget -= PIPE_SIZE;
  return true;
}

/** A second pipe for `peek`: tee(2) copies the head of a log pipe into it without taking it. */
let scratch: { r: number; w: number; buf: Uint8Array<ArrayBuffer> } | null = null;

function scratchPipe(): { r: number; w: number; buf: Uint8Array<ArrayBuffer> } {
  if (scratch) return scratch;
  const fds = new Int32Array(2);
  if (c().pipe2(fds, O_CLOEXEC | O_NONBLOCK) !== 0) {
    throw new Error(`cannot make a pipe: ${errorText(errno())}`);
  }
  c().fcntl(fds[1]!, F_SETPIPE_SZ, PIPE_SIZE);
  const size = Math.max(c().fcntl(fds[1]!, F_GETPIPE_SZ, 0), 4096);
  scratch = { r: fds[0]!, w: fds[1]!, buf: new Uint8Array(size) };
  return scratch;
}

/** FIONREAD's answer, for every pipe (bytes() fills and reads it without yielding). */
const count = new Int32Array(1);

export class LogPipe {
  private constructor(readonly path: string, readonly fd: number, readonly capacity: number) {}

  /**
   * Open the FIFO at `path`, made (mode 0600) when missing; one left by an earlier daemon is
   * reused with whatever it still holds. Throws Error with the system's words.
   */
  static open(path: string): LogPipe {
    const p = cstr(path);
    // mkfifo first: a missing path (the common case) costs no thrown NotFound (~1 ms in Deno).
    if (c().mkfifo(p, 0o600) !== 0) {
      if (errno() !== EEXIST) {
        throw new Error(`cannot make the log pipe ${path}: ${errorText(errno())}`);
      }
      // Something is there: a FIFO left by an earlier daemon is reused, anything else replaced.
      let st: Deno.FileInfo | null = null;
      try {
        st = Deno.lstatSync(path);
      } catch { /* gone meanwhile */ }
      if (!st?.isFifo) {
        try {
          if (st) Deno.removeSync(path);
        } catch (e) {
          throw new Error(`cannot replace ${path}: ${e instanceof Error ? e.message : e}`);
        }
        if (c().mkfifo(p, 0o600) !== 0 && errno() !== EEXIST) {
          throw new Error(`cannot make the log pipe ${path}: ${errorText(errno())}`);
        }
      }
    }
    const fd = c().open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
    if (fd < 0) throw new Error(`cannot open the log pipe ${path}: ${errorText(errno())}`);
    if (mayRaise()) c().fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE); // may be refused: 64 KiB then
    const capacity = Math.max(c().fcntl(fd, F_GETPIPE_SZ, 0), 4096);
    return new LogPipe(path, fd, capacity);
  }

  /** Bytes waiting in the pipe. */
  bytes(): number {
    return pipeBytes(this.fd, count);
  }

  /**
   * Up to `n` bytes at the head of the pipe, left in it (tee, then read): a view of a shared
   * buffer, valid until the next peek.
   */
  peek(n: number): Uint8Array {
    const s = scratchPipe();
    const want = Math.min(n, s.buf.length);
    const got = Number(c().tee(this.fd, s.w, BigInt(want), SPLICE_F_NONBLOCK));
    if (got <= 0) return new Uint8Array(0);
    let off = 0;
    while (off < got) {
      const r = Number(c().read(s.r, s.buf.subarray(off), BigInt(got - off)));
      if (r <= 0) break;
      off += r;
    }
    return s.buf.subarray(0, off);
  }

  /** Take `n` bytes off the head of the pipe, unwritten (a full disk); returns them. */
  take(n: number): Uint8Array {
    const buf = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const r = Number(c().read(this.fd, buf.subarray(off), BigInt(n - off)));
      if (r < 0 && errno() === EINTR) continue;
      if (r <= 0) break;
      off += r;
    }
    return buf.subarray(0, off);
  }

  /**
   * Put `bytes` (a marker record, at most PIPE_BUF: written whole or not at all) into the pipe.
   * False when the pipe is full.
   */
  write(bytes: Uint8Array): boolean {
    for (;;) {
      const r = Number(c().write(this.fd, bytes as Uint8Array<ArrayBuffer>, BigInt(bytes.length)));
      if (r === bytes.length) return true;
      if (r < 0 && errno() === EINTR) continue;
      if (r < 0 && errno() === EAGAIN) return false;
      return r > 0; // cannot happen for a write of at most PIPE_BUF bytes
    }
  }

  /** Close the daemon's end; with `remove`, unlink the FIFO too (jobs holding it keep it). */
  close(remove: boolean): void {
    if (remove) c().unlink(cstr(this.path));
    c().close(this.fd);
  }
}
