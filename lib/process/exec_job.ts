/**
 * `upkeep exec-job SPEC PROGRAM ARGS...`: the set-up helper of a job process (hidden subcommand,
 * spawned by the daemon with posix_spawn and by `upkeep run`). It reads the job's environment on
 * its stdin (NUL-ended `KEY=VALUE` entries, never on its command line, which any local user can
 * read), then puts /dev/null in its place. Through libc:
 * umask, oom score, nice, chroot + chdir, resource limits, supplementary groups, gid, uid; then it
 * resets signal dispositions and the signal mask and execs PROGRAM with exactly ENV, looking
 * PROGRAM up in ENV's PATH only after the privileges are dropped (inside the chroot, as the job's
 * user). It runs no other program, so it needs no util-linux and works on BusyBox.
 *
 * Upstart sets the limits first; here they come after chroot, right before the privileges are
 * dropped, with everything exec needs already built: a limit such as `limit as` below what this
 * Deno process has mapped would otherwise make it fail before it reaches exec. Limits still
 * precede the drop of privileges, so raising a hard limit works as in Upstart.
 *
 * A failing step ends the helper with one line naming the step and the system's words
 * (`upkeep: web main process: cannot set user id 1000: Operation not permitted`), written to the
 * daemon's error pipe (fd 3) and to stderr; exit status 127 when the program is missing, else 126.
 * Imports nothing: it must load fast and must not need any file after chroot.
 */

const SYMBOLS = {
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  setpriority: { parameters: ["i32", "u32", "i32"], result: "i32" },
  umask: { parameters: ["u32"], result: "u32" },
  chroot: { parameters: ["buffer"], result: "i32" },
  chdir: { parameters: ["buffer"], result: "i32" },
  setgroups: { parameters: ["usize", "buffer"], result: "i32" },
  setresgid: { parameters: ["u32", "u32", "u32"], result: "i32" },
  setresuid: { parameters: ["u32", "u32", "u32"], result: "i32" },
  geteuid: { parameters: [], result: "u32" },
  execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  dup2: { parameters: ["i32", "i32"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  signal: { parameters: ["i32", "pointer"], result: "pointer" },
  sigprocmask: { parameters: ["i32", "buffer", "pointer"], result: "i32" },
  strerror: { parameters: ["i32"], result: "pointer" },
  syscall: { parameters: ["i64", "i64", "buffer", "pointer", "i64"], result: "i64" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** Linux's generic RLIMIT_* numbers (x86-64, arm64, riscv...). */
const RLIMIT: Record<string, number> = {
  cpu: 0,
  fsize: 1,
  data: 2,
  stack: 3,
  core: 4,
  rss: 5,
  nproc: 6,
  nofile: 7,
  memlock: 8,
  as: 9,
  sigpending: 11,
  msgqueue: 12,
  nice: 13,
  rtprio: 14,
};
const PRIO_PROCESS = 0;
const F_SETFD = 2, FD_CLOEXEC = 1;
const O_RDONLY = 0, O_WRONLY = 1, O_CLOEXEC = 0o2000000;
const SIG_SETMASK = 2;
const ENOENT = 2, EACCES = 13, EINTR = 4, E2BIG = 7;
const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

interface Spec {
  what: string;
  /** Resource, soft, hard: `-1` is unlimited; a value past 2^53 comes as its decimal text. */
  limits: [string, number | string, number | string][];
  umask: number | null;
  oomScore: number | null;
  nice: number | null;
  chroot: string | null;
  chdir: string;
  groups: number[] | null;
  gid: number | null;
  uid: number | null;
  mergeStderr: boolean;
  errorFd: boolean;
}

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

class StepError extends Error {
  constructor(message: string, readonly errno: number) {
    super(message);
  }
}

const enc = new TextEncoder();
function cstr(s: string): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(enc.encode(s).length + 1);
  enc.encodeInto(s, b);
  return b;
}

function cArray(items: readonly string[], keep: Uint8Array[]): BigUint64Array<ArrayBuffer> {
  const arr = new BigUint64Array(items.length + 1);
  items.forEach((s, i) => {
    const b = cstr(s);
    keep.push(b);
    arr[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
  });
  return arr;
}

function openLibc(): Libc {
  for (const name of ["libc.so.6", "libc.so", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"]) {
    try {
      return Deno.dlopen(name, SYMBOLS).symbols;
    } catch { /* next */ }
  }
  throw new Error("cannot open libc");
}

/** Parse the helper's arguments. Throws an Error on a malformed command line (a bug). */
export function parseExecJobArgs(args: readonly string[]): { spec: Spec; argv: string[] } {
  const [specText, ...argv] = args;
  if (specText === undefined) throw new Error("usage: upkeep exec-job SPEC PROGRAM [ARG]...");
  const spec = JSON.parse(specText) as Spec;
  if (argv.length === 0) throw new Error("exec-job: no program to run");
  return { spec, argv };
}

/** The environment entries of the helper's stdin (NUL-ended `KEY=VALUE`; see helperStdin). */
export function parseEnvBlock(bytes: Uint8Array): string[] {
  const text = new TextDecoder().decode(bytes);
  return text.split("\0").filter((e) => e.includes("="));
}

/** The largest environment the helper reads on its stdin. */
const MAX_ENV_BYTES = 16 * 1024 * 1024;

/** Read the environment on fd 0 to its end, then put /dev/null on fd 0 for the job. */
function takeEnv(c: Libc): string[] {
  let buf = new Uint8Array(64 * 1024);
  let len = 0;
  for (;;) {
    if (len === buf.length) {
      if (len >= MAX_ENV_BYTES) throw new StepError("cannot read the environment", E2BIG);
      const bigger = new Uint8Array(len * 2);
      bigger.set(buf);
      buf = bigger;
    }
    const n = Number(c.read(0, buf.subarray(len), BigInt(buf.length - len)));
    if (n === 0) break;
    if (n < 0) {
      if (errno(c) === EINTR) continue;
      throw new StepError("cannot read the environment", errno(c));
    }
    len += n;
  }
  const fd = c.open(cstr("/dev/null"), O_RDONLY | O_CLOEXEC, 0);
  check(c, fd, "cannot open /dev/null");
  if (fd !== 0) {
    check(c, c.dup2(fd, 0), "cannot open /dev/null");
    c.close(fd);
  }
  return parseEnvBlock(buf.subarray(0, len));
}

/** Run the helper; returns an exit status only when something failed (else it has exec'd). */
export function execJobMain(args: readonly string[]): number {
  let parsed;
  try {
    parsed = parseExecJobArgs(args);
  } catch (e) {
    console.error(`upkeep: ${e instanceof Error ? e.message : e}`);
    return 126;
  }
  const { spec, argv } = parsed;
  let c: Libc;
  try {
    c = openLibc();
  } catch (e) {
    report(null, spec, `cannot set up: ${e instanceof Error ? e.message : e}`);
    return 126;
  }
  if (spec.errorFd) c.fcntl(3, F_SETFD, FD_CLOEXEC);
  if (spec.mergeStderr) c.dup2(1, 2);
  try {
    const env = takeEnv(c);
    setUp(c, spec);
    execProgram(c, spec, argv, env);
  } catch (e) {
    if (!(e instanceof StepError)) throw e;
    report(c, spec, `${e.message}: ${describeErrno(c, e.errno)}`);
    return e.errno === ENOENT && e.message.startsWith("cannot run") ? 127 : 126;
  }
  return 126; // not reached: execProgram either execs or throws
}

function errno(c: Libc): number {
  const p = c.__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

function describeErrno(c: Libc, n: number): string {
  const p = c.strerror(n);
  return p === null ? `errno ${n}` : new Deno.UnsafePointerView(p).getCString();
}

function check(c: Libc, result: number | bigint, step: string): void {
  if (Number(result) < 0) throw new StepError(step, errno(c));
}

function limitText(v: number | string): string {
  return v === -1 ? "unlimited" : String(v);
}

/** rlim_t of a limit value: -1 is RLIM_INFINITY; a decimal text is exact past 2^53. */
function rlim(v: number | string): bigint {
  return v === -1 ? 0xffffffffffffffffn : BigInt(v);
}

function setUp(c: Libc, spec: Spec): void {
  if (spec.umask !== null) c.umask(spec.umask);
  if (spec.oomScore !== null) setOomScore(c, spec);
  if (spec.nice !== null) {
    check(c, c.setpriority(PRIO_PROCESS, 0, spec.nice), `cannot set nice ${spec.nice}`);
  }
  if (spec.chroot !== null) {
    check(c, c.chroot(cstr(spec.chroot)), `cannot chroot to ${spec.chroot}`);
  }
  check(c, c.chdir(cstr(spec.chdir)), `cannot change directory to ${spec.chdir}`);
}

/** Limits and identity: the last steps, with every buffer built beforehand (see the top). */
function lastSteps(c: Libc, spec: Spec): void {
  const limits = spec.limits.map(([name, soft, hard]) => {
    const buf = new BigUint64Array(2);
    buf[0] = rlim(soft);
    buf[1] = rlim(hard);
    const step = `cannot set limit ${name} ${limitText(soft)} ${limitText(hard)}`;
    return { res: RLIMIT[name] ?? -1, buf, step };
  });
  const groups = spec.groups ?? [];
  const list = new Uint32Array(Math.max(groups.length, 1));
  list.set(groups);
  const root = c.geteuid() === 0;
  for (const l of limits) check(c, c.setrlimit(l.res, l.buf), l.step);
  if (spec.groups !== null && root) {
    const step = `cannot set supplementary groups ${groups.join(",")}`;
    check(c, c.setgroups(BigInt(groups.length), list), step);
  }
  if (spec.gid !== null) {
    check(c, c.setresgid(spec.gid, spec.gid, spec.gid), `cannot set group id ${spec.gid}`);
  }
  if (spec.uid !== null) {
    check(c, c.setresuid(spec.uid, spec.uid, spec.uid), `cannot set user id ${spec.uid}`);
  }
}

/** oom_score_adj: a failure (no CAP_SYS_RESOURCE to lower it) is reported and not fatal. */
function setOomScore(c: Libc, spec: Spec): void {
  const fd = c.open(cstr("/proc/self/oom_score_adj"), O_WRONLY | O_CLOEXEC, 0);
  const text = enc.encode(`${spec.oomScore}\n`);
  const ok = fd >= 0 && Number(c.write(fd, text, BigInt(text.length))) === text.length;
  const why = ok ? 0 : errno(c);
  if (fd >= 0) c.close(fd);
  if (!ok) {
    writeLine(
      2,
      c,
      `upkeep: ${spec.what}: cannot set oom score ${spec.oomScore}: ${
        describeErrno(c, why)
      } (continuing)`,
    );
  }
}

/** rt_sigaction's number, for the two signals glibc keeps for itself (32, 33). */
const RT_SIGACTION: Record<string, number> = { x86_64: 13, aarch64: 134 };

/** Default dispositions and an empty mask, as a freshly spawned process has them. */
function resetSignals(c: Libc): void {
  for (let sig = 1; sig <= 64; sig++) {
    if (sig === 9 || sig === 19) continue;
    if (sig === 32 || sig === 33) {
      // glibc's signal() refuses these; the kernel does not (nothing here uses threads any more).
      const nr = RT_SIGACTION[Deno.build.arch];
      if (nr !== undefined) c.syscall(BigInt(nr), BigInt(sig), new Uint8Array(32), null, 8n);
      continue;
    }
    c.signal(sig, null);
  }
  // An empty sigset_t (glibc's: 128 bytes): a fresh buffer is all zeros, as sigemptyset makes it.
  c.sigprocmask(SIG_SETMASK, new Uint8Array(128), null);
}

/** The paths execvp would try for PROGRAM in ENV's PATH. */
function candidates(program: string, env: string[]): string[] {
  if (program.includes("/")) return [program];
  const pathVar = env.find((e) => e.startsWith("PATH="));
  const path = pathVar === undefined ? DEFAULT_PATH : pathVar.slice(5);
  return path.split(":").map((dir) => `${dir || "."}/${program}`);
}

/**
 * The last steps and execve of PROGRAM, searching ENV's PATH as execvp does (EACCES remembered,
 * ENOENT and the like skipped), as the job's user.
 */
function execProgram(c: Libc, spec: Spec, argv: string[], env: string[]): void {
  const keep: Uint8Array[] = [];
  const argvC = cArray(argv, keep);
  const envC = cArray(env, keep);
  const program = argv[0]!;
  const paths = candidates(program, env).map(cstr);
  lastSteps(c, spec);
  resetSignals(c);
  let sawAccess = false;
  for (const path of paths) {
    c.execve(path, argvC, envC);
    const e = errno(c);
    if (e === EACCES) sawAccess = true;
    else if (![ENOENT, 20, /* ENOTDIR */ 40, /* ELOOP */ 36 /* ENAMETOOLONG */].includes(e)) {
      throw new StepError(`cannot run ${program}`, e);
    }
  }
  throw new StepError(`cannot run ${program}`, sawAccess ? EACCES : ENOENT);
}

function report(c: Libc | null, spec: Spec, message: string): void {
  const line = `upkeep: ${spec.what}: ${message}`;
  if (spec.errorFd && c) writeLine(3, c, line);
  writeLine(2, c, line);
}

function writeLine(fd: number, c: Libc | null, line: string): void {
  const bytes = enc.encode(line + "\n");
  try {
    if (c) c.write(fd, bytes, BigInt(bytes.length));
    else if (fd === 2) Deno.stderr.writeSync(bytes);
  } catch { /* nowhere to say it */ }
}
