/**
 * A real upkeep daemon in a temp dir for end-to-end tests: write job files, start the daemon,
 * talk to it with the real CLI, and stop it (SIGTERM, then SIGKILL of anything left) in `close`.
 */

import { pidAlive, type RunResult, runUpkeep, tempDir, upkeepArgv, waitFor } from "./helpers.ts";
import { pathHash } from "../../lib/log/fifo_dir.ts";

export class TestDaemon {
  process: Deno.ChildProcess | null = null;
  readonly conf: string;
  readonly state: string;
  readonly logs: string;
  readonly socket: string;
  #output = "";
  #reader: Promise<void> | null = null;

  private constructor(readonly dir: string, private readonly cleanup: () => Promise<void>) {
    this.conf = `${dir}/conf`;
    this.state = `${dir}/state`;
    this.logs = `${dir}/logs`;
    this.socket = `${dir}/state/upkeep.sock`;
    Deno.mkdirSync(this.conf, { recursive: true, mode: 0o755 });
  }

  /** A daemon dir with these job files (name → text); not started yet. */
  static async create(jobs: Record<string, string> = {}): Promise<TestDaemon> {
    const t = await tempDir("upkeep-e2e-");
    Deno.chmodSync(t.path, 0o755);
    const d = new TestDaemon(t.path, t.cleanup);
    for (const [name, text] of Object.entries(jobs)) d.writeJob(name, text);
    return d;
  }

  writeJob(name: string, text: string): void {
    const path = `${this.conf}/${name}.conf`;
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true, mode: 0o755 });
    Deno.writeTextFileSync(path, text, { mode: 0o644 });
    Deno.chmodSync(path, 0o644); // a root daemon refuses group-writable job files (umask 002)
  }

  /**
   * Start the daemon and wait until its socket answers. `launcher` is a command prefix that runs
   * it (a shell setting limits, say); it must pass SIGTERM on to the daemon.
   */
  async start(extra: string[] = [], launcher: string[] = []): Promise<void> {
    const [cmd, ...pre] = [...launcher, ...upkeepArgv()];
    this.process = new Deno.Command(cmd!, {
      args: [
        ...pre,
        "daemon",
        "--conf-dir",
        this.conf,
        "--state-dir",
        this.state,
        "--log-dir",
        this.logs,
        "--socket",
        this.socket,
        ...extra,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const dec = new TextDecoder();
    const stderr = this.process.stderr;
    this.#reader = (async () => {
      for await (const chunk of stderr) this.#output += dec.decode(chunk, { stream: true });
    })();
    await waitFor(async () => (await this.initctl("version")).code === 0, "daemon socket", 15_000);
  }

  /** What the daemon printed on stderr so far. */
  get output(): string {
    return this.#output;
  }

  initctl(...args: string[]): Promise<RunResult> {
    return runUpkeep(["initctl", "--socket", this.socket, ...args]);
  }

  /** The main pid of a running job (status line), or null. */
  async mainPid(job: string, ...args: string[]): Promise<number | null> {
    const r = await this.initctl("status", job, ...args);
    const m = /start\/running, process (\d+)/.exec(r.stdout);
    return m ? Number(m[1]) : null;
  }

  async waitRunning(job: string, ...args: string[]): Promise<number> {
    return await waitFor(() => this.mainPid(job, ...args), `${job} running`);
  }

  /** Wait for a status line matching `re`. */
  async waitStatus(job: string, re: RegExp, ...args: string[]): Promise<string> {
    return await waitFor(async () => {
      const r = await this.initctl("status", job, ...args);
      return re.test(r.stdout.trim()) ? r.stdout : null;
    }, `${job} status ${re}`);
  }

  /** Wait until job log `name` matches `re` (the daemon writes it a moment after the job). */
  async waitLog(name: string, re: RegExp, timeoutMs = 10_000): Promise<string> {
    return await waitFor(
      () => {
        const text = this.readLog(name);
        return re.test(text) ? text : null;
      },
      `${name} matching ${re}`,
      timeoutMs,
    );
  }

  readLog(name: string): string {
    try {
      return Deno.readTextFileSync(`${this.logs}/${name}`);
    } catch {
      return "";
    }
  }

  /** Stop the daemon (SIGTERM; SIGKILL after 20 s), kill every job process left, remove the dir. */
  async close(): Promise<void> {
    const p = this.process;
    if (p) {
      try {
        p.kill("SIGTERM");
      } catch { /* gone */ }
      const timer = setTimeout(() => {
        try {
          p.kill("SIGKILL");
        } catch { /* gone */ }
      }, 20_000);
      await p.status;
      clearTimeout(timer);
      await this.#reader;
    }
    for (const pid of jobProcesses(this.dir, true)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
    removeFifoDirs(this.state);
    await this.cleanup();
  }
}

/**
 * The daemon's log FIFO directory on /dev/shm for this state directory (any user's), which a
 * daemon leaves behind when it is killed or has pipes it could not drain (lib/log/fifo_dir.ts).
 */
export function removeFifoDirs(stateDir: string): void {
  let suffix: string;
  try {
    suffix = `-${pathHash(Deno.realPathSync(stateDir))}`;
  } catch {
    return;
  }
  try {
    for (const e of Deno.readDirSync("/dev/shm")) {
      if (e.name.startsWith("upkeep-") && e.name.endsWith(suffix)) {
        Deno.removeSync(`/dev/shm/${e.name}`, { recursive: true });
      }
    }
  } catch { /* no /dev/shm */ }
}

/** Pids of live processes whose environment (or, with `cmdline`, command line) mentions `marker`. */
export function jobProcesses(marker: string, cmdline = false): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const pid = Number(e.name);
    if (pid === Deno.pid) continue;
    try {
      const environ = Deno.readTextFileSync(`/proc/${pid}/environ`);
      const cmd = cmdline ? Deno.readTextFileSync(`/proc/${pid}/cmdline`) : "";
      if ((environ.includes(marker) || cmd.includes(marker)) && pidAlive(pid)) out.push(pid);
    } catch { /* gone or not ours */ }
  }
  return out;
}

/**
 * A test with its own daemon: `jobs` (or a function of the daemon's temp dir, to place marker
 * files) are written, the daemon started, `fn` run, and everything stopped and removed after.
 * The daemon's output is printed when the test fails.
 */
export function daemonTest(
  name: string,
  jobs: Record<string, string> | ((dir: string) => Record<string, string>),
  fn: (d: TestDaemon) => Promise<void>,
  opts: { launcher?: string[]; ignore?: boolean } = {},
): void {
  Deno.test({
    name,
    ignore: opts.ignore ?? false,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const d = await TestDaemon.create();
      try {
        const files = typeof jobs === "function" ? jobs(d.dir) : jobs;
        for (const [job, text] of Object.entries(files)) d.writeJob(job, text);
        await d.start([], opts.launcher ?? []);
        await fn(d);
      } catch (e) {
        console.error(`--- daemon output of "${name}" ---\n${d.output}`);
        throw e;
      } finally {
        await d.close();
      }
    },
  });
}

/** The non-empty lines of a file ([] when it does not exist yet). */
export function lines(path: string): string[] {
  try {
    return Deno.readTextFileSync(path).split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
}

/** The lines of `path` once it has any (for waitFor), else null. */
export function someLines(path: string): string[] | null {
  const l = lines(path);
  return l.length ? l : null;
}

/**
 * Wait until the daemon's log matches `re` (its lines are written just after the work). On a
 * timeout the error shows how the log ends, to tell a late line from a different one.
 */
export async function logged(d: TestDaemon, re: RegExp): Promise<void> {
  try {
    await waitFor(() => re.test(d.output), `daemon log ${re}`, 3000);
  } catch (e) {
    const tail = d.output.trimEnd().split("\n").slice(-8).join("\n  ");
    throw new Error(`${e instanceof Error ? e.message : e}; the log ends:\n  ${tail}`);
  }
}

/** A different main pid than `old`, once the job runs again. */
export async function newMainPid(d: TestDaemon, job: string, old: number): Promise<number> {
  return await waitFor(async () => {
    const pid = await d.mainPid(job);
    return pid !== null && pid !== old ? pid : null;
  }, `${job} running with a new pid`);
}
