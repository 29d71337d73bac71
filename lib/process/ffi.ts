/**
 * The few libc calls Deno does not offer, through a lazily opened `Deno.dlopen` of libc (the same
 * under `deno run -A` and `deno compile`; needs --allow-ffi): child subreaper, waitpid on one pid,
 * close-on-exec for inherited fds, flock(2) file locks (released by the kernel when the holder
 * dies, even by SIGKILL), and signal handlers that do nothing.
 */

import type { ExitStatus } from "./spawn.ts";
import { signalName } from "./signals.ts";
import { lazyLibc } from "./libc_open.ts";

const SYMBOLS = {
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  waitid: { parameters: ["i32", "u32", "buffer", "i32"], result: "i32" },
  close_range: { parameters: ["u32", "u32", "i32"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  flock: { parameters: ["i32", "i32"], result: "i32" },
  flock_blocking: { name: "flock", parameters: ["i32", "i32"], result: "i32", nonblocking: true },
  __errno_location: { parameters: [], result: "pointer" },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  malloc_trim: { parameters: ["u64"], result: "i32" },
  sigaction: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  dlsym: { parameters: ["pointer", "buffer"], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
const lazy: () => Libc | null = lazyLibc(SYMBOLS);

function lib(): Libc {
  const libc = lazy();
  if (!libc) throw new Error("cannot open libc for FFI");
  return libc;
}

function errno(): number {
  const p = lib().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

const O_RDONLY_CLOEXEC = 0o2000000;
const READ_BUF_KEEP = 16 * 1024;
let readBuf = new Uint8Array(READ_BUF_KEEP);
const procDecoder = new TextDecoder();

/**
 * The whole text of a small file (a /proc file: stat, children, environ), or null when it cannot
 * be opened or read (a process that is gone). open, read until the end, close: no thrown error
 * for a vanished pid, one buffer reused, where Deno.readTextFileSync costs twice the system calls
 * and an exception per miss. `undefined` when FFI is not available here (use Deno's reader).
 */
export function readSmallFile(path: string): string | null | undefined {
  let c: Libc;
  try {
    c = lib();
  } catch {
    return undefined;
  }
  const fd = c.open(cString(path), O_RDONLY_CLOEXEC, 0);
  if (fd < 0) return null;
  try {
    let len = 0;
    for (;;) {
      if (len === readBuf.length) {
        const bigger = new Uint8Array(readBuf.length * 2);
        bigger.set(readBuf);
        readBuf = bigger;
      }
      const n = Number(c.read(fd, readBuf.subarray(len), BigInt(readBuf.length - len)));
      if (n < 0) {
        if (errno() === 4) continue; // EINTR
        return null;
      }
      if (n === 0) break;
      len += n;
    }
    const text = procDecoder.decode(readBuf.subarray(0, len));
    if (readBuf.length > READ_BUF_KEEP) readBuf = new Uint8Array(READ_BUF_KEEP); // stay small
    return text;
  } finally {
    c.close(fd);
  }
}

/** Give the memory malloc holds free back to the system (glibc's malloc_trim). */
export function mallocTrim(): void {
  try {
    lib().malloc_trim(0n);
  } catch { /* not glibc */ }
}

const SA_RESTART = 0x10000000;
/** glibc's struct sigaction on 64-bit Linux: handler, 128-byte mask, int flags, restorer. */
const SIGACTION_SIZE = 152;
const SIGACTION_FLAGS = 136;

/**
 * Give each signal a handler that does nothing: getpid(2), which is async-signal-safe, takes no
 * argument and has no effect. A handler, unlike SIG_IGN, goes back to the default in every exec,
 * so no child inherits it. Null when done, else why not.
 */
export function catchAndDoNothing(signals: readonly number[]): string | null {
  let c: Libc;
  try {
    c = lib();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  const getpid = c.dlsym(null, new TextEncoder().encode("getpid\0"));
  if (getpid === null) return "getpid not found in libc";
  const act = new Uint8Array(SIGACTION_SIZE);
  const view = new DataView(act.buffer);
  view.setBigUint64(0, BigInt(Deno.UnsafePointer.value(getpid)), true);
  view.setInt32(SIGACTION_FLAGS, SA_RESTART, true);
  for (const signal of signals) {
    if (c.sigaction(signal, act, null) !== 0) return `sigaction(${signal}): ${errnoText(errno())}`;
  }
  return null;
}

/** The system's words for an errno (strerror), e.g. "No space left on device". */
export function errnoText(n: number): string {
  const p = lib().strerror(n);
  return p === null ? `errno ${n}` : new Deno.UnsafePointerView(p).getCString();
}

const ESRCH = 3;

/**
 * kill(2) by signal number (any of 1-64, real-time ones included): true when sent, false when
 * no such process (or group) exists; throws Error with the system's words otherwise.
 */
export function sendSignal(target: number, signal: number): boolean {
  if (lib().kill(target, signal) === 0) return true;
  const e = errno();
  if (e === ESRCH) return false;
  throw new Error(errnoText(e));
}

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;
const CLOSE_RANGE_CLOEXEC = 4;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
const O_RDWR = 2, O_CREAT = 0o100, O_CLOEXEC = 0o2000000;
const LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;
const EINTR = 4, EWOULDBLOCK = 11;

/** Make this process adopt orphaned descendants (PR_SET_CHILD_SUBREAPER). */
export function setChildSubreaper(): boolean {
  return lib().prctl(PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n) === 0;
}

/** Decode a wait(2) status word. Pure. */
export function decodeWaitStatus(status: number): ExitStatus {
  const sig = status & 0x7f;
  if (sig === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: signalName(sig) };
}

/**
 * Reap one pid if it has exited (WNOHANG). ONLY for pids Deno did not spawn (adopted orphans):
 * reaping a Deno child makes its `status` promise reject. Null while it runs or when not ours.
 */
export function waitpidNoHang(pid: number): ExitStatus | null {
  if (pid <= 0) throw new Error(`waitpidNoHang needs a pid, got ${pid}`);
  const buf = new Int32Array(1);
  const r = lib().waitpid(pid, buf, WNOHANG);
  return r === pid ? decodeWaitStatus(buf[0]!) : null;
}

const P_ALL = 0, WEXITED = 4, WNOWAIT = 0x01000000;
const siginfo = new Int32Array(32); // siginfo_t: 128 bytes; si_pid at byte 16

/**
 * A child of ours that has ended and waits to be reaped (a zombie), or 0: one waitid(2) that
 * looks without reaping (WNOWAIT), so Deno's own children are left to Deno.
 */
export function endedChild(): number {
  siginfo.fill(0);
  const r = lib().waitid(P_ALL, 0, siginfo, WEXITED | WNOHANG | WNOWAIT);
  return r === 0 ? siginfo[4]! : 0;
}

/** Mark every fd >= 3 close-on-exec so children do not inherit fds we inherited. */
export function closeInheritedFds(): void {
  try {
    if (lib().close_range(3, 0xffffffff, CLOSE_RANGE_CLOEXEC) === 0) return;
  } catch { /* a libc without close_range (before glibc 2.34): one fd at a time */ }
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    const fd = Number(e.name);
    if (fd >= 3) lib().fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
}

/** An exclusive flock(2) on a file; the kernel drops it when the process dies. */
export interface FileLock {
  readonly path: string;
  readonly fd: number;
  release(): void;
}

function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

function openLockFile(path: string): number {
  const fd = lib().open(cString(path), O_RDWR | O_CREAT | O_CLOEXEC, 0o644);
  if (fd < 0) throw new Error(`cannot open lock file '${path}' (errno ${errno()})`);
  return fd;
}

function makeLock(path: string, fd: number): FileLock {
  let held = true;
  return {
    path,
    fd,
    release() {
      if (!held) return;
      held = false;
      lib().flock(fd, LOCK_UN);
      lib().close(fd);
    },
  };
}

/**
 * Take an exclusive lock on `path` (created if missing). `wait: false` returns null when another
 * process holds it; `wait: true` blocks this thread until it is free (see lockFileWait).
 */
export function tryLockFile(path: string, wait: boolean): FileLock | null {
  const fd = openLockFile(path);
  for (;;) {
    if (lib().flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) === 0) return makeLock(path, fd);
    const e = errno();
    if (wait && e === EINTR) continue;
    lib().close(fd);
    if (!wait) return null;
    throw new Error(`cannot lock '${path}' (errno ${e})`);
  }
}

/** Wait for an exclusive lock on `path` without blocking the event loop (signals still run). */
export async function lockFileWait(path: string): Promise<FileLock> {
  const fd = openLockFile(path);
  for (;;) {
    if ((await lib().flock_blocking(fd, LOCK_EX)) === 0) return makeLock(path, fd);
    // errno of a nonblocking FFI call is the worker thread's: ask again here to learn why
    if (lib().flock(fd, LOCK_EX | LOCK_NB) === 0) return makeLock(path, fd);
    const e = errno();
    if (e !== EWOULDBLOCK && e !== EINTR) {
      lib().close(fd);
      throw new Error(`cannot lock '${path}' (errno ${e})`);
    }
  }
}
