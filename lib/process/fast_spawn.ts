/**
 * How the daemon spawns every job process: posix_spawn(3) through FFI with POSIX_SPAWN_SETSID, so
 * a job process gets its own session and process group without Deno forking the whole daemon
 * (Deno's `detached: true` forces fork(): about 1-3 ms in a 50 MB daemon, against ~0.2 ms for
 * glibc's vfork-style posix_spawn). Output files (`console log`) are opened by posix_spawn's file
 * actions: O_APPEND|O_CREAT|O_NOFOLLOW, mode 0640, so a symlink planted at the log path is
 * refused (ELOOP) rather than followed; or, when the daemon writes the log (lib/log), the
 * instance's FIFO is opened O_RDWR (the job is a reader too: never SIGPIPE, see log_pipe.ts).
 *
 * Plans that need privileged set-up run upkeep's helper (plan.helper); its set-up error comes
 * back through a pipe on the child's fd 3 (SetupPipes). The job's RLIMIT_NOFILE soft limit (the
 * daemon's original one, which Deno raised at start) is put in place around the posix_spawn call
 * on the daemon itself and restored right after: the child inherits it, the daemon keeps its own.
 *
 * A multi-line script (plan.script) is written to a memfd that the child gets as fd 9.
 *
 * Deno does not know these children: the caller reaps them with `waitpidNoHang` on SIGCHLD.
 */

import { type ProcessPlan, SCRIPT_FD } from "./plan.ts";
import { errnoText } from "./ffi.ts";
import { lazyLibc } from "./libc_open.ts";

const SYMBOLS = {
  posix_spawn: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
  posix_spawnattr_setsigmask: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawnattr_setsigdefault: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_addopen: {
    parameters: ["buffer", "i32", "buffer", "i32", "u32"],
    result: "i32",
  },
  posix_spawn_file_actions_adddup2: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  posix_spawn_file_actions_addchdir_np: { parameters: ["buffer", "buffer"], result: "i32" },
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  memfd_create: { parameters: ["buffer", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
const lib: () => Libc | null = lazyLibc(SYMBOLS);

// glibc's values.
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100, O_APPEND = 0o2000;
const O_NONBLOCK = 0o4000, O_NOFOLLOW = 0o400000, O_CLOEXEC = 0o2000000;
const RLIMIT_NOFILE = 7;
const EAGAIN = 11, EINTR = 4;
const MFD_CLOEXEC = 1;
const SEEK_SET = 0;
/** Mode of a log file the spawn creates (Upstart's: owner read-write, group read). */
export const LOG_FILE_MODE = 0o640;

/**
 * Where a process's stdout+stderr go: a file appended to, a log pipe (FIFO) the daemon reads,
 * /dev/null, or the daemon's own.
 */
export type Output = { readonly file: string } | { readonly pipe: string } | "null" | "inherit";

/** True when posix_spawn is usable here (glibc and FFI). */
export function canFastSpawn(): boolean {
  return lib() !== null;
}

const enc = new TextEncoder();
/** `s` NUL-terminated (encoded once, into a buffer big enough for any UTF-8 of it). */
function cstr(s: string): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(s.length * 3 + 1);
  const { written } = enc.encodeInto(s, b);
  return b.subarray(0, written + 1);
}

/**
 * NULL-terminated array of pointers to C strings, all in one buffer (one allocation and one
 * pointer lookup for a whole environment); `keep` holds the buffer alive.
 */
function cArray(items: readonly string[], keep: Uint8Array[]): BigUint64Array<ArrayBuffer> {
  let size = 0;
  for (const s of items) size += s.length * 3 + 1;
  const buf = new Uint8Array(size);
  const offsets = new Array<number>(items.length);
  let off = 0;
  items.forEach((s, i) => {
    offsets[i] = off;
    off += enc.encodeInto(s, buf.subarray(off)).written + 1; // the NUL is already there
  });
  keep.push(buf);
  const arr = new BigUint64Array(items.length + 1);
  if (items.length === 0) return arr;
  const base = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
  offsets.forEach((o, i) => arr[i] = base + BigInt(o));
  return arr;
}

/** Find a program in PATH (posix_spawnp would search the daemon's PATH, not the job's). */
export function resolveProgram(program: string, path: string | undefined): string | null {
  if (program.includes("/")) return program;
  for (const dir of (path ?? "/usr/local/bin:/usr/bin:/bin").split(":")) {
    if (!dir) continue;
    const full = `${dir}/${program}`;
    if (isExecutableFile(full)) return full;
  }
  return null;
}

const AT_FDCWD = -100, STATX_TYPE_MODE = 0x3, S_IFMT = 0o170000, S_IFREG = 0o100000;
const statxBuf = new Uint8Array(256);
const statxMode = new Uint16Array(statxBuf.buffer, 28, 1);

/**
 * A regular file with an execute bit (symlinks followed). One statx(2) through FFI: a PATH search
 * misses in most directories, and a miss through Deno.statSync costs a thrown NotFound (~30 us).
 */
function isExecutableFile(full: string): boolean {
  const c = lib();
  if (!c) {
    try {
      const st = Deno.statSync(full);
      return st.isFile && ((st.mode ?? 0) & 0o111) !== 0;
    } catch {
      return false;
    }
  }
  if (c.statx(AT_FDCWD, cstr(full), 0, STATX_TYPE_MODE, statxBuf) !== 0) return false;
  const mode = statxMode[0]!;
  return (mode & S_IFMT) === S_IFREG && (mode & 0o111) !== 0;
}

/** This process's RLIMIT_NOFILE (soft, hard); RLIM_INFINITY as Infinity. */
export function getNofile(): { soft: number; hard: number } | null {
  const c = lib();
  if (!c) return null;
  const buf = new BigUint64Array(2);
  if (c.getrlimit(RLIMIT_NOFILE, buf) !== 0) return null;
  const num = (v: bigint) => v === 0xffffffffffffffffn ? Infinity : Number(v);
  return { soft: num(buf[0]!), hard: num(buf[1]!) };
}

function setNofileSoft(c: Libc, soft: number, hard: number): boolean {
  const buf = new BigUint64Array(2);
  const big = (v: number) => v === Infinity ? 0xffffffffffffffffn : BigInt(v);
  buf[0] = big(soft);
  buf[1] = big(hard);
  return c.setrlimit(RLIMIT_NOFILE, buf) === 0;
}

/** Set this process's soft RLIMIT_NOFILE (the hard one unchanged); false when refused. */
export function setOwnNofileSoft(soft: number): boolean {
  const c = lib();
  const cur = getNofile();
  if (!c || !cur || soft > cur.hard) return false;
  return cur.soft === soft || setNofileSoft(c, soft, cur.hard);
}

export interface SpawnOptions {
  /** stdout+stderr destination; default from the plan (its logFile, or its stdout setting). */
  readonly output?: Output;
  /** RLIMIT_NOFILE soft limit the child starts with (null: the daemon's current one). */
  readonly nofileSoft?: number | null;
  /** FIFOs the child holds open (O_RDWR|O_NONBLOCK) on fds 3, 4, ...: the log pipe holder. */
  readonly holdFifos?: readonly string[];
}

export interface Spawned {
  readonly pid: number;
  /**
   * Its start time as /proc/PID/stat says it (clock ticks since boot), known without reading
   * /proc (see bootTicks); null when the spawn straddled a tick, or no clock.
   */
  readonly start: number | null;
  /** Read end of the set-up helper's error pipe (helper plans only); see SetupPipes. */
  readonly errorFd: number | null;
}

function outputOf(plan: ProcessPlan, output: Output | undefined): Output {
  if (output) return output;
  if (plan.logFile) return { file: plan.logFile };
  return plan.stdout === "inherit" ? "inherit" : "null";
}

/**
 * What every spawn fills in and is done with when it returns (spawnProcess runs start to end
 * without yielding, so one set serves them all): no buffers to allocate and collect per spawn.
 * Sizes: glibc's posix_spawnattr_t is 336 bytes, posix_spawn_file_actions_t 80.
 */
const scratch = {
  attr: new Uint8Array(1024),
  actions: new Uint8Array(1024),
  pipe: new Int32Array(2),
  pid: new Int32Array(1),
};

/**
 * The child's signal mask (none blocked) and the signals it sets to their default action: every
 * one. A sigset_t is a bit array (glibc's is 128 bytes; these are longer, and libc copies what it
 * uses), so these are filled here, not by sigemptyset/sigfillset: glibc's sigfillset would leave
 * out its two internal signals (32, 33), which its posix_spawn then sets to SIG_IGN in the child,
 * and the job would keep them ignored through exec (Go and musl programs use them).
 */
const NO_SIGNALS = new Uint8Array(256);
const ALL_SIGNALS = new Uint8Array(256).fill(0xff);
const devnull = cstr("/dev/null");

/**
 * Spawn `plan` in a new session. Throws Error(message) when the program, the directory or the log
 * file cannot be used (the system's words, and which of them failed).
 */
export function spawnProcess(plan: ProcessPlan, opts: SpawnOptions = {}): Spawned {
  const c = lib();
  if (!c) throw new Error("posix_spawn is not available (no glibc, or no --allow-ffi)");
  const [program] = plan.argv;
  if (program === undefined) throw new Error("empty command");
  const path = resolveProgram(program, plan.env.PATH);
  if (path === null) throw new Error(`Failed to spawn '${program}': No such file or directory`);

  const keep: Uint8Array[] = [];
  const { attr, actions, pipe, pid: pidBuf } = scratch;
  let pipeOpen = false;
  let scriptFd = -1;
  let stdinFd = -1;
  c.posix_spawnattr_init(attr);
  c.posix_spawn_file_actions_init(actions);
  try {
    c.posix_spawnattr_setsigmask(attr, NO_SIGNALS);
    c.posix_spawnattr_setsigdefault(attr, ALL_SIGNALS);
    c.posix_spawnattr_setflags(
      attr,
      POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF,
    );
    if (plan.stdin !== undefined) {
      stdinFd = memfdWith(c, "upkeep-stdin", plan.stdin, program, "its input");
      c.posix_spawn_file_actions_adddup2(actions, stdinFd, 0);
    } else c.posix_spawn_file_actions_addopen(actions, 0, devnull, O_RDONLY, 0);
    const out = outputOf(plan, opts.output);
    if (out === "null") {
      c.posix_spawn_file_actions_addopen(actions, 1, devnull, O_WRONLY, 0);
      c.posix_spawn_file_actions_adddup2(actions, 1, 2);
    } else if (typeof out === "object" && "pipe" in out) {
      const fifo = cstr(out.pipe);
      keep.push(fifo);
      c.posix_spawn_file_actions_addopen(actions, 1, fifo, O_RDWR | O_NOFOLLOW, 0);
      c.posix_spawn_file_actions_adddup2(actions, 1, 2);
    } else if (out !== "inherit") {
      const file = cstr(out.file);
      keep.push(file);
      const flags = O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW;
      c.posix_spawn_file_actions_addopen(actions, 1, file, flags, LOG_FILE_MODE);
      c.posix_spawn_file_actions_adddup2(actions, 1, 2);
    }
    (opts.holdFifos ?? []).forEach((path, i) => {
      const fifo = cstr(path);
      keep.push(fifo);
      c.posix_spawn_file_actions_addopen(actions, 3 + i, fifo, O_RDWR | O_NONBLOCK | O_NOFOLLOW, 0);
    });
    if (plan.helper) {
      if (c.pipe2(pipe, O_CLOEXEC | O_NONBLOCK) !== 0) {
        throw new Error(`Failed to spawn '${program}': cannot make a pipe: ${errnoText(errno(c))}`);
      }
      pipeOpen = true;
      c.posix_spawn_file_actions_adddup2(actions, pipe[1]!, 3);
    }
    if (plan.script !== undefined) {
      scriptFd = memfdWith(c, "upkeep-script", enc.encode(plan.script), program, "the script");
      c.posix_spawn_file_actions_adddup2(actions, scriptFd, SCRIPT_FD);
    }
    const cwd = cstr(plan.cwd);
    keep.push(cwd);
    c.posix_spawn_file_actions_addchdir_np(actions, cwd);
    const argv = cArray(plan.argv, keep);
    const envp = cArray(Object.entries(plan.env).map(([k, v]) => `${k}=${v}`), keep);
    const pathC = cstr(path);
    const before = bootTicks(c);
    const err = withNofileSoft(
      c,
      opts.nofileSoft ?? null,
      () => c.posix_spawn(pidBuf, pathC, actions, attr, argv, envp),
    );
    const after = bootTicks(c);
    if (err !== 0) throw new Error(spawnFailure(err, program, plan.cwd, out));
    if (pipeOpen) c.close(pipe[1]!);
    pipeOpen = false;
    const start = before !== null && before === after ? before : null;
    return { pid: pidBuf[0]!, start, errorFd: plan.helper ? pipe[0]! : null };
  } finally {
    if (pipeOpen) {
      c.close(pipe[0]!);
      c.close(pipe[1]!);
    }
    if (scriptFd !== -1) c.close(scriptFd);
    if (stdinFd !== -1) c.close(stdinFd);
    c.posix_spawn_file_actions_destroy(actions);
    c.posix_spawnattr_destroy(attr);
  }
}

/**
 * A memfd holding `bytes`, read from its start (close-on-exec: the spawn's dup2 gives the child
 * its copy, fd 9 for a script, fd 0 for the helper's input).
 */
function memfdWith(
  c: Libc,
  name: string,
  bytes: Uint8Array,
  program: string,
  what: string,
): number {
  const fail = (fd: number) => {
    const why = errnoText(errno(c));
    if (fd >= 0) c.close(fd);
    return new Error(`Failed to spawn '${program}': cannot pass ${what}: ${why}`);
  };
  const fd = c.memfd_create(cstr(name), MFD_CLOEXEC);
  if (fd < 0) throw fail(fd);
  let off = 0;
  while (off < bytes.length) {
    const n = Number(c.write(fd, bytes.subarray(off), BigInt(bytes.length - off)));
    if (n < 0 && errno(c) === EINTR) continue;
    if (n <= 0) throw fail(fd);
    off += n;
  }
  // The child shares this file offset (a script is reopened through /proc, fd 0 is read as is).
  if (c.lseek(fd, 0n, SEEK_SET) < 0n) throw fail(fd);
  return fd;
}

/** Spawn `plan` in a new session with `output`; returns the pid (see spawnProcess). */
export function fastSpawn(plan: ProcessPlan, output: Output | null): number {
  const { pid, errorFd } = spawnProcess(plan, output ? { output } : {});
  if (errorFd !== null) lib()?.close(errorFd);
  return pid;
}

const CLOCK_BOOTTIME = 7;
/** Clock ticks per second in /proc/PID/stat (USER_HZ, 100 on every Linux architecture). */
const TICKS_PER_S = 100;
const timespec = new BigInt64Array(2);

/**
 * CLOCK_BOOTTIME in clock ticks, the clock and unit of a process's start time in /proc/PID/stat
 * (the kernel stamps a child with it as it creates it). Read before and after a spawn: when both
 * are the same tick, that is the child's start time, without reading /proc/PID/stat, which
 * waits while the new child is still in its exec (~0.4 ms a spawn; the state journal needs the
 * start time of each process it records). Null when there is no clock.
 */
function bootTicks(c: Libc): number | null {
  try {
    if (c.clock_gettime(CLOCK_BOOTTIME, timespec) !== 0) return null;
  } catch {
    return null; // not bound: the start time is read from /proc instead
  }
  return Number(timespec[0]!) * TICKS_PER_S +
    Math.floor(Number(timespec[1]!) / (1_000_000_000 / TICKS_PER_S));
}

/** Run `fn` with this process's soft RLIMIT_NOFILE set to `soft` (restored after). */
function withNofileSoft<T>(c: Libc, soft: number | null, fn: () => T): T {
  const cur = soft === null ? null : getNofile();
  if (cur === null || soft === null || cur.soft === soft || soft > cur.hard) return fn();
  if (!setNofileSoft(c, soft, cur.hard)) return fn();
  try {
    return fn();
  } finally {
    setNofileSoft(c, cur.soft, cur.hard);
  }
}

function errno(c: Libc): number {
  const p = c.__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

function existsDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/**
 * posix_spawn reports a failed file action (the log), chdir or exec with one errno: say which of
 * them failed, with the system's words.
 */
function spawnFailure(err: number, program: string, cwd: string, out: Output): string {
  const why = errnoText(err);
  if (typeof out === "object" && "pipe" in out) {
    if (!existsDir(cwd)) {
      return `Failed to spawn '${program}': cannot change directory to '${cwd}': ${why}`;
    }
    let fifo = false;
    try {
      fifo = Deno.lstatSync(out.pipe).isFifo === true;
    } catch { /* gone */ }
    if (!fifo) return `cannot open log pipe ${out.pipe}: ${why}`;
  } else if (typeof out === "object") {
    let link = false;
    try {
      link = Deno.lstatSync(out.file).isSymlink;
    } catch { /* not there yet */ }
    const dir = out.file.slice(0, out.file.lastIndexOf("/")) || "/";
    if (link) return `cannot open log ${out.file}: it is a symbolic link`;
    if (!existsDir(dir) || err === 28 || err === 30 || err === 122) {
      return `cannot open log ${out.file}: ${why}`;
    }
  }
  if (!existsDir(cwd)) {
    return `Failed to spawn '${program}': cannot change directory to '${cwd}': ${why}`;
  }
  return `Failed to spawn '${program}' in '${cwd}': ${why}`;
}

/**
 * The read ends of set-up helpers' error pipes, by pid. A helper that exec'd its program closes
 * its end (EOF): the fd is dropped on the next sweep. One that failed wrote one line: kept until
 * the caller reaps that pid and takes it.
 */
export class SetupPipes {
  readonly #fds = new Map<number, number>();
  readonly #messages = new Map<number, string>();
  /** Who waits for a helper's exec (its pipe's EOF), by pid. */
  readonly #onExec = new Map<number, () => void>();

  /** Watch `pid`'s pipe `fd`; `onExec` hears when the helper exec'd (not when it failed). */
  add(pid: number, fd: number, onExec?: () => void): void {
    this.#fds.set(pid, fd);
    if (onExec) this.#onExec.set(pid, onExec);
  }

  get size(): number {
    return this.#fds.size;
  }

  /** True while some helper's exec is waited for. */
  get execWaiting(): boolean {
    return this.#onExec.size > 0;
  }

  /** Is the exec of `pid`'s helper waited for and not seen yet? */
  awaitsExec(pid: number): boolean {
    return this.#onExec.has(pid);
  }

  /** Close the pipes of helpers that have exec'd (or written their message). */
  sweep(): void {
    for (const pid of [...this.#fds.keys()]) this.#poll(pid);
  }

  /** The set-up failure of `pid` (null if it exec'd fine); forgets the pid. */
  take(pid: number): string | null {
    if (this.#fds.has(pid)) this.#poll(pid, true);
    this.#onExec.delete(pid);
    const m = this.#messages.get(pid) ?? null;
    this.#messages.delete(pid);
    return m;
  }

  #poll(pid: number, final = false): void {
    const c = lib();
    const fd = this.#fds.get(pid);
    if (!c || fd === undefined) return;
    const buf = new Uint8Array(4096);
    const n = Number(c.read(fd, buf, BigInt(buf.length)));
    if (n < 0 && errno(c) === EAGAIN && !final) return;
    if (n > 0) this.#messages.set(pid, new TextDecoder().decode(buf.subarray(0, n)).trim());
    c.close(fd);
    this.#fds.delete(pid);
    const onExec = this.#onExec.get(pid);
    this.#onExec.delete(pid);
    // EOF without a message: the pipe closed on exec. (A helper that died before it could write
    // also closes it; its exit, reaped next, then ends the main process as any exit does.)
    if (n === 0 && onExec && !final) onExec();
  }
}
