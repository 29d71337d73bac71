/**
 * The libc calls of the job-output pipeline, through FFI (`--allow-ffi`; the same under `deno run`
 * and `deno compile`). Two kinds:
 *
 * - calls that touch only pipes, FIFOs, epoll and eventfds (never a disk): made on the daemon's
 *   thread, synchronously (they cannot block: every fd has O_NONBLOCK);
 * - calls that touch a log file or a spool file (`*Async`): made as nonblocking FFI calls, each on
 *   a worker thread, so a slow or stuck disk never holds up the daemon's loop.
 *
 * A nonblocking call's errno is its worker thread's and cannot be read afterwards: when one fails,
 * the same call is made once more here, synchronously, to learn the system's words (`*Errno`). The
 * disk has just answered (with an error), so that second call answers at once.
 */

import { errnoText } from "../process/ffi.ts";
import { lazyLibc } from "../process/libc_open.ts";

const SYMBOLS = {
  mkfifo: { parameters: ["buffer", "u32"], result: "i32" },
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  openAsync: {
    name: "open",
    parameters: ["buffer", "i32", "u32"],
    result: "i32",
    nonblocking: true,
  },
  close: { parameters: ["i32"], result: "i32" },
  unlink: { parameters: ["buffer"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  tee: { parameters: ["i32", "i32", "usize", "u32"], result: "isize" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  splice: { parameters: ["i32", "buffer", "i32", "buffer", "usize", "u32"], result: "isize" },
  spliceAsync: {
    name: "splice",
    parameters: ["i32", "buffer", "i32", "buffer", "usize", "u32"],
    result: "isize",
    nonblocking: true,
  },
  pwrite: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  pwriteAsync: {
    name: "pwrite",
    parameters: ["i32", "buffer", "usize", "i64"],
    result: "isize",
    nonblocking: true,
  },
  preadAsync: {
    name: "pread",
    parameters: ["i32", "buffer", "usize", "i64"],
    result: "isize",
    nonblocking: true,
  },
  ftruncate: { parameters: ["i32", "i64"], result: "i32" },
  ftruncateAsync: {
    name: "ftruncate",
    parameters: ["i32", "i64"],
    result: "i32",
    nonblocking: true,
  },
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  statxAsync: {
    name: "statx",
    parameters: ["i32", "buffer", "i32", "u32", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_waitAsync: {
    name: "epoll_wait",
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  /** Does nothing on a worker thread: answered in a later turn of the loop (TurnBudget). */
  getpidAsync: { name: "getpid", parameters: [], result: "i32", nonblocking: true },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
/** The libc symbols, or null without glibc or FFI permission. */
export const lib: () => Libc | null = lazyLibc(SYMBOLS);

/** The libc symbols; throws when FFI is not available (callers check `lib()` first). */
export function c(): Libc {
  const l = lib();
  if (!l) throw new Error("libc is not available through FFI");
  return l;
}

/** errno of the last synchronous call on this thread. */
export function errno(): number {
  const p = c().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

/** The system's words for errno `n`. */
export function errorText(n: number): string {
  return errnoText(n);
}

// Linux values (x86_64 and aarch64 agree on all of these).
export const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100;
export const O_NONBLOCK = 0o4000, O_CLOEXEC = 0o2000000;
export const O_NOFOLLOW = Deno.build.arch === "aarch64" ? 0o100000 : 0o400000;
export const F_SETPIPE_SZ = 1031, F_GETPIPE_SZ = 1032;
export const FIONREAD = 0x541b;
export const SPLICE_F_NONBLOCK = 2;
export const AT_FDCWD = -100, AT_EMPTY_PATH = 0x1000, AT_SYMLINK_NOFOLLOW = 0x100;
export const STATX_BASIC = 0x7ff;
export const EINTR = 4, EAGAIN = 11, ENOENT = 2, EEXIST = 17, ELOOP = 40, ENOSPC = 28;
export const EPOLLIN = 1, EPOLLET = 1 << 31;
export const EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2;
export const EFD_NONBLOCK = 0o4000, EFD_CLOEXEC = 0o2000000;

const enc = new TextEncoder();

/** A NUL-terminated copy of `s`. */
export function cstr(s: string): Uint8Array<ArrayBuffer> {
  const b = enc.encode(s);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

/** What statx says of a file. */
export interface FileStat {
  readonly ino: bigint;
  readonly dev: bigint;
  readonly size: number;
  readonly nlink: number;
  readonly mode: number;
  readonly mtimeMs: number;
}

/** A buffer for `struct statx` (256 bytes, the same layout on every architecture). */
export function statxBuffer(): Uint8Array<ArrayBuffer> {
  return new Uint8Array(256);
}

export function decodeStatx(b: Uint8Array): FileStat {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    nlink: v.getUint32(16, true),
    mode: v.getUint16(28, true),
    ino: v.getBigUint64(32, true),
    size: Number(v.getBigUint64(40, true)),
    mtimeMs: Number(v.getBigInt64(112, true)) * 1000 + Math.floor(v.getUint32(120, true) / 1e6),
    dev: (BigInt(v.getUint32(136, true)) << 32n) | BigInt(v.getUint32(140, true)),
  };
}

/** Bytes in a pipe, unread (FIONREAD); 0 on error. */
export function pipeBytes(fd: number, scratch: Int32Array<ArrayBuffer>): number {
  return c().ioctl(fd, BigInt(FIONREAD), scratch) === 0 ? scratch[0]! : 0;
}
