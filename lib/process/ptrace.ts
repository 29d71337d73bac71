/**
 * The system calls of fork following, through FFI to libc: ptrace(2) (seize, continue, listen,
 * detach, event message), waitpid(2) with `__WALL | WUNTRACED` (ptrace stops and job-control stops
 * as well as exits), and kill(2) by number. Every call here must run on the JS thread: ptrace
 * requests are only accepted from the thread that seized the tracee, and synchronous FFI calls run
 * on that thread.
 *
 * `decodeWait` (pure) turns a wait status word into an exit, a stop, or a ptrace event.
 */

import { decodeWaitStatus } from "./ffi.ts";
import type { ExitStatus } from "./spawn.ts";
import { lazyLibc } from "./libc_open.ts";

const SYMBOLS = {
  ptrace: { parameters: ["i32", "i32", "u64", "u64"], result: "i64" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
/** Null without FFI or glibc: fork following then falls back to the process tree. */
const lib: () => Libc | null = lazyLibc(SYMBOLS);

const PTRACE_CONT = 7;
const PTRACE_DETACH = 17;
const PTRACE_GETEVENTMSG = 0x4201;
const PTRACE_SEIZE = 0x4206;
const PTRACE_O_TRACEFORK = 0x02;
const PTRACE_O_TRACEEXEC = 0x10;
const WNOHANG = 1, WUNTRACED = 2, WALL = 0x40000000;

/** ptrace event numbers (status >> 16). */
export const PTRACE_EVENT = { fork: 1, vfork: 2, clone: 3, exec: 4, stop: 0x80 } as const;

/** What waitpid reported for a pid. */
export type WaitResult =
  | { readonly kind: "exited"; readonly status: ExitStatus }
  /** A stop: a job-control or signal-delivery stop (`event` 0) or a ptrace event stop. */
  | { readonly kind: "stopped"; readonly signal: number; readonly event: number };

/** Decode a wait(2) status word. Pure. */
export function decodeWait(status: number): WaitResult {
  if ((status & 0xff) === 0x7f) {
    return { kind: "stopped", signal: (status >> 8) & 0xff, event: (status >> 16) & 0xffff };
  }
  return { kind: "exited", status: decodeWaitStatus(status) };
}

function errorText(c: Libc): string {
  const p = c.__errno_location();
  const errno = p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
  const s = c.strerror(errno);
  return s === null ? `errno ${errno}` : new Deno.UnsafePointerView(s).getCString();
}

/** The calls fork following needs; tests pass a fake. */
export interface TraceSys {
  /** Seize `pid` tracing its forks and execs; null on success, else the system's words. */
  seize(pid: number): string | null;
  /** Resume a tracee from a ptrace stop, delivering `signal` (0 for none). */
  cont(pid: number, signal: number): void;
  /** Stop tracing `pid` and let it run, delivering `signal` (0 for none). */
  detach(pid: number, signal: number): void;
  /** The pid of the new process of a fork event stop. */
  forkedPid(pid: number): number;
  /** waitpid(pid, WNOHANG | WUNTRACED | __WALL): what happened, or null for nothing yet. */
  wait(pid: number): WaitResult | null;
  /** kill(pid, signal); false when it failed (ESRCH). */
  kill(pid: number, signal: number): boolean;
}

/** The real calls; null when libc cannot be opened through FFI. */
export function systemTrace(): TraceSys | null {
  const c = lib();
  if (!c) return null;
  const statusBuf = new Int32Array(1);
  const msg = new BigUint64Array(1);
  const msgPtr = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(msg)));
  return {
    seize(pid) {
      // Not vforks, as Upstart: a vfork child (dash runs commands so, glibc's posix_spawn too)
      // only runs another program; it is never the daemon.
      const options = PTRACE_O_TRACEFORK | PTRACE_O_TRACEEXEC;
      return c.ptrace(PTRACE_SEIZE, pid, 0n, BigInt(options)) === 0n ? null : errorText(c);
    },
    cont(pid, signal) {
      c.ptrace(PTRACE_CONT, pid, 0n, BigInt(signal));
    },
    detach(pid, signal) {
      c.ptrace(PTRACE_DETACH, pid, 0n, BigInt(signal));
    },
    forkedPid(pid) {
      msg[0] = 0n;
      c.ptrace(PTRACE_GETEVENTMSG, pid, 0n, msgPtr);
      return Number(msg[0]);
    },
    wait(pid) {
      const r = c.waitpid(pid, statusBuf, WNOHANG | WUNTRACED | WALL);
      return r === pid ? decodeWait(statusBuf[0]!) : null;
    },
    kill(pid, signal) {
      return c.kill(pid, signal) === 0;
    },
  };
}
