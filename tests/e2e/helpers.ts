/**
 * Shared helpers for end-to-end tests: how to run upkeep (the compiled binary named by `UPKEEP_BIN`,
 * else `deno run -A main.ts`), temp dirs, and bounded waits on conditions (never fixed sleeps).
 */

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** The repository root (where main.ts lives). */
export const REPO_ROOT = ROOT;

/** The command prefix that runs upkeep: `[UPKEEP_BIN]` or `[deno, run, -A, ROOT/main.ts]`. */
export function upkeepArgv(): string[] {
  const bin = Deno.env.get("UPKEEP_BIN");
  if (bin) return [bin.startsWith("/") ? bin : `${ROOT}/${bin}`];
  return [Deno.execPath(), "run", "-A", "--quiet", `${ROOT}/main.ts`];
}

/** The set-up helper command of upkeep under test (as the daemon builds it: lib/cli/shims.ts). */
export function testHelperCommand(): { argv: string[]; env: Record<string, string> } {
  const env: Record<string, string> = { UPKEEP_ARGV0: "upkeep", NO_COLOR: "1" };
  for (const k of ["DENO_DIR", "HOME", "XDG_CACHE_HOME"]) {
    const v = Deno.env.get(k);
    if (v !== undefined) env[k] = v;
  }
  return { argv: upkeepArgv(), env };
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run upkeep with `args` to completion. */
export async function runUpkeep(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; stdin?: string; uid?: number; gid?: number } =
    {},
): Promise<RunResult> {
  const [cmd, ...pre] = upkeepArgv();
  const child = new Deno.Command(cmd!, {
    args: [...pre, ...args],
    env: opts.env,
    cwd: opts.cwd,
    uid: opts.uid,
    gid: opts.gid,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Wait until `cond` returns a truthy value (polled every `intervalMs`), or throw after `timeoutMs`. */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 20,
): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  while (performance.now() < deadline) {
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}`);
}

/** A fresh temp dir, removed by the returned `cleanup`. */
export async function tempDir(
  prefix = "upkeep-test-",
): Promise<{ path: string; cleanup(): Promise<void> }> {
  const path = await Deno.makeTempDir({ prefix });
  return { path, cleanup: () => Deno.remove(path, { recursive: true }).catch(() => {}) };
}

/** True when a process with this pid exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Connect up to `n` clients to the socket at `path` and close them all: a backlog of dead connections. */
export async function deadConnections(path: string, n: number): Promise<number> {
  const conns: Deno.Conn[] = [];
  try {
    while (conns.length < n) conns.push(await Deno.connect({ transport: "unix", path }));
  } catch { /* the backlog is full */ }
  for (const c of conns) c.close();
  return conns.length;
}
