/**
 * Noticing the end of processes that are not our children (jobs adopted after the daemon was
 * restarted: their parent is now init or another subreaper, so no SIGCHLD and no waitpid for
 * us). Each is watched through a pidfd (pidfd_open(2), Linux 5.3+), and one poll(2) on all of
 * them runs as a nonblocking FFI call, so the JS thread is never blocked and nothing wakes up
 * until a watched process ends (an eventfd interrupts the poll when the set changes). Without
 * pidfds (older kernels), a check every FALLBACK_MS of whether each pid still is the process
 * it was (start time from /proc) does the same at a bounded cost.
 *
 * The exit status of such a process is not ours to collect: it is reported as unknown.
 */

import { processStart } from "./proc.ts";
import { lazyLibc } from "./libc_open.ts";

const SYMBOLS = {
  syscall: { parameters: ["i64", "i64", "i64"], result: "i64" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "u64"], result: "i64" },
  read: { parameters: ["i32", "buffer", "u64"], result: "i64" },
  close: { parameters: ["i32"], result: "i32" },
} as const;

const SYS_PIDFD_OPEN = 434n;
const EFD_CLOEXEC = 0o2000000, EFD_NONBLOCK = 0o4000;
const POLLIN = 1;
/** How often the fallback looks when pidfds are not available. */
export const FALLBACK_MS = 1000;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
const libc: () => Libc | null = lazyLibc(SYMBOLS);

interface Watched {
  readonly pid: number;
  readonly start: number | null;
  readonly onExit: () => void;
  readonly fd: number | null;
}

export class ExitWatcher {
  #lib: Libc | null | undefined;
  #wake = -1;
  readonly #watched = new Map<number, Watched>();
  #polling = false;
  #fallback: number | undefined;

  #libc(): Libc | null {
    if (this.#lib === undefined) {
      try {
        this.#lib = libc();
        if (this.#lib) this.#wake = this.#lib.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      } catch {
        this.#lib = null;
      }
    }
    return this.#lib;
  }

  get size(): number {
    return this.#watched.size;
  }

  has(pid: number): boolean {
    return this.#watched.has(pid);
  }

  /**
   * Tell `onExit` (once) when process `pid` ends; `start` is its start time, so that a reused
   * pid is not taken for it. False when it has already ended (then `onExit` is not called).
   */
  watch(pid: number, start: number | null, onExit: () => void): boolean {
    const now = processStart(pid);
    if (now === null || (start !== null && now !== start)) return false;
    this.unwatch(pid);
    const c = this.#libc();
    let fd: number | null = null;
    if (c && this.#wake >= 0) {
      const r = Number(c.syscall(SYS_PIDFD_OPEN, BigInt(pid), 0n));
      if (r >= 0) fd = r;
    }
    // Opened after the check: if it ended in between, the pidfd is ready at once.
    this.#watched.set(pid, { pid, start: now, onExit, fd });
    if (fd !== null) this.#kick();
    else this.#armFallback();
    return true;
  }

  unwatch(pid: number): void {
    const w = this.#watched.get(pid);
    if (!w) return;
    this.#watched.delete(pid);
    if (w.fd !== null) {
      this.#libc()?.close(w.fd);
      this.#kick();
    }
  }

  /** Interrupt the poll in flight (the set changed), or start one. */
  #kick(): void {
    const c = this.#libc();
    if (!c) return;
    if (this.#polling) {
      c.write(this.#wake, new BigUint64Array([1n]), 8n);
      return;
    }
    if ([...this.#watched.values()].some((w) => w.fd !== null)) void this.#pollLoop(c);
  }

  async #pollLoop(c: Libc): Promise<void> {
    this.#polling = true;
    try {
      for (;;) {
        const entries = [...this.#watched.values()].filter((w) => w.fd !== null);
        if (entries.length === 0) return;
        const fds = [this.#wake, ...entries.map((w) => w.fd!)];
        const buf = new Uint8Array(fds.length * 8);
        const view = new DataView(buf.buffer);
        fds.forEach((fd, i) => {
          view.setInt32(i * 8, fd, true);
          view.setInt16(i * 8 + 4, POLLIN, true);
        });
        const n = await c.poll(buf, BigInt(fds.length), -1);
        if (n < 0) continue; // EINTR
        if (view.getInt16(6, true) !== 0) c.read(this.#wake, new Uint8Array(8), 8n);
        entries.forEach((w, i) => {
          if (view.getInt16((i + 1) * 8 + 6, true) === 0) return;
          if (this.#watched.get(w.pid) !== w) return;
          this.#watched.delete(w.pid);
          c.close(w.fd!);
          w.onExit();
        });
      }
    } finally {
      this.#polling = false;
    }
  }

  /** Without pidfds: look every FALLBACK_MS while something is watched that way. */
  #armFallback(): void {
    if (this.#fallback !== undefined) return;
    this.#fallback = Number(setTimeout(() => {
      this.#fallback = undefined;
      let left = false;
      for (const w of [...this.#watched.values()]) {
        if (w.fd !== null) continue;
        if (processStart(w.pid) === w.start) {
          left = true;
          continue;
        }
        this.#watched.delete(w.pid);
        w.onExit();
      }
      if (left) this.#armFallback();
    }, FALLBACK_MS));
  }
}
