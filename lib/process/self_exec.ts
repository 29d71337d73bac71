/**
 * execve(2) of this very process, through FFI: the pid stays, children stay our children (their
 * exits still reach us), file descriptors without close-on-exec stay open. Used to start the
 * daemon with the V8 flags it needs (`daemonV8Flags`), and by `initctl reexec` to hand the daemon
 * over to a new program.
 *
 * The command line is this process's own (/proc/self/cmdline), so `deno run` flags, main.ts and
 * the daemon's options are kept exactly; only the environment (or the program) changes.
 */

const SYMBOLS = {
  execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

/**
 * V8 flags the daemon runs with:
 * - a small young generation (1 MB semi-spaces) keeps its memory flat through crash storms
 *   (without it RSS climbs by ~50 MB in a minute of 1,000 respawns/s and stays there; measured
 *   with scripts/crash_storm.ts), at no measurable cost in respawn time;
 * - no memory reducer (it wakes an idle daemon on its own timers for half a minute after any
 *   activity) but `gc()`, which lib/process/idle_gc.ts calls once after each burst instead;
 * - no bytecode flushing: that collection is V8's "last resort" kind, which would otherwise throw
 *   away the bytecode of every function not running, so that the next respawn after a quiet
 *   moment compiled its whole path again (bench respawn p50 +0.2 ms, p90 +1 ms); the bytecode
 *   kept costs about 1.8 MB of PSS with 100 jobs.
 */
export const DAEMON_V8_FLAGS = [
  "--max-semi-space-size=1",
  "--no-memory-reducer",
  "--expose-gc",
  "--no-flush-bytecode",
];

const enc = new TextEncoder();

function cstr(s: string): Uint8Array<ArrayBuffer> {
  const b = enc.encode(s);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
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

/** This process's argv as the kernel has it (the one that started it), or null. */
export function ownArgv(): string[] | null {
  try {
    const raw = Deno.readTextFileSync("/proc/self/cmdline");
    const argv = raw.split("\0");
    if (argv[argv.length - 1] === "") argv.pop();
    return argv.length ? argv : null;
  } catch {
    return null;
  }
}

/**
 * Replace this process with `program argv...` and `env`. Returns only on failure, with the
 * system's words.
 */
export function execSelf(
  program: string,
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
): string {
  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    lib = Deno.dlopen("libc.so.6", SYMBOLS);
  } catch (e) {
    return `cannot open libc: ${e instanceof Error ? e.message : e}`;
  }
  const keep: Uint8Array[] = [];
  const path = cstr(program);
  const args = cArray(argv, keep);
  const envp = cArray(Object.entries(env).map(([k, v]) => `${k}=${v}`), keep);
  lib.symbols.execve(path, args, envp);
  const p = lib.symbols.__errno_location();
  const errno = p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
  const s = lib.symbols.strerror(errno);
  const text = s === null ? `errno ${errno}` : new Deno.UnsafePointerView(s).getCString();
  lib.close();
  return text;
}

/**
 * Environment the daemon runs with, beside its V8 flags: no update check. Under `deno run`, Deno
 * looks for a newer Deno half a second after it starts (a DNS query and an HTTPS request to
 * dl.deno.land, a file in its cache): a supervisor, often root, has no business doing that at
 * every start.
 */
export const DAEMON_ENV: Readonly<Record<string, string>> = { DENO_NO_UPDATE_CHECK: "1" };

/**
 * The environment the daemon must exec itself with to get DAEMON_V8_FLAGS and DAEMON_ENV in
 * effect, or null when there is nothing to do (pure). Under `deno run`, V8 and Deno read them only
 * at start, from the environment (DENO_V8_FLAGS). A compiled binary (`standalone`) reads neither:
 * denort takes V8 flags only from what `deno compile --v8-flags` put in the binary
 * (scripts/compile.ts puts DAEMON_V8_FLAGS there) and never looks for updates, so an exec would
 * change nothing and cost a second start of the runtime.
 */
export function daemonRuntimeEnv(
  env: Readonly<Record<string, string>>,
  standalone: boolean,
): Record<string, string> | null {
  if (standalone) return null;
  const current = env.DENO_V8_FLAGS ?? "";
  const missing = DAEMON_V8_FLAGS.filter((f) => !current.includes(f.split("=")[0]!));
  const unset = Object.entries(DAEMON_ENV).filter(([k, v]) => env[k] !== v);
  if (missing.length === 0 && unset.length === 0) return null;
  return {
    ...env,
    ...DAEMON_ENV,
    DENO_V8_FLAGS: [current, ...missing].filter(Boolean).join(","),
  };
}

/** Whether ensureDaemonRuntime is going to exec: DAEMON_V8_FLAGS or DAEMON_ENV are not in effect. */
export function daemonRuntimeDue(): boolean {
  return daemonRuntimeEnv(Deno.env.toObject(), Deno.build.standalone) !== null;
}

/**
 * Start over with DAEMON_V8_FLAGS and DAEMON_ENV when they are not in effect yet
 * (daemonRuntimeEnv): execve this same command line with that environment. Returns (doing
 * nothing) when there is nothing to do or the exec fails; never returns otherwise.
 */
export function ensureDaemonRuntime(): void {
  const env = daemonRuntimeEnv(Deno.env.toObject(), Deno.build.standalone);
  if (env === null) return;
  const argv = ownArgv();
  if (!argv) return;
  execSelf(Deno.execPath(), argv, env);
}
