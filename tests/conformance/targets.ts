/**
 * The two things a scenario runs against: the real Upstart 1.13.2 (a session init from the oracle
 * package, `../shared/oracle`), and upkeep (`upkeep daemon` in a temp dir). Both get the same
 * layout (conf/, logs/, tmp/, bin/) in their own temp dir, are driven through their own initctl, and
 * are stopped with every process they started.
 */

import { REPO_ROOT, type RunResult, upkeepArgv, waitFor } from "../e2e/helpers.ts";
import { jobProcesses, removeFifoDirs } from "../e2e/daemon_helpers.ts";

/** Where the oracle package lives: `UPSTART_ORACLE`, else `../shared/oracle` beside the repo. */
export function oracleDir(): string | null {
  const dir = Deno.env.get("UPSTART_ORACLE") ?? `${REPO_ROOT}/../shared/oracle`;
  try {
    Deno.statSync(`${dir}/prefix/sbin/init`);
    Deno.statSync(`${dir}/run-oracle.sh`);
    return Deno.realPathSync(dir);
  } catch {
    return null;
  }
}

export const PROGRAMS = ["initctl", "start", "stop", "restart", "reload", "status"] as const;

export abstract class Target {
  abstract readonly kind: "upstart" | "upkeep";
  readonly conf: string;
  readonly logs: string;
  readonly tmp: string;
  readonly bin: string;
  readonly state: string;

  constructor(readonly root: string, readonly daemonEnv: Readonly<Record<string, string>>) {
    this.conf = `${root}/conf`;
    this.logs = `${root}/logs`;
    this.tmp = `${root}/tmp`;
    this.bin = `${root}/bin`;
    this.state = `${root}/state`;
    for (const d of [this.conf, this.logs, this.tmp, this.bin, this.state]) {
      Deno.mkdirSync(d, { recursive: true });
    }
    // Jobs that drop privileges (setuid) write their markers here too.
    Deno.chmodSync(this.tmp, 0o777);
  }

  /** Placeholders of job files and step paths. */
  expand(text: string): string {
    return text.replaceAll("@TMP@", this.tmp).replaceAll("@BIN@", this.bin);
  }

  abstract start(): Promise<void>;
  /** Run `initctl ARGS` as `program` (initctl, or a shortcut such as `stop`). */
  abstract initctl(args: readonly string[], program: string): Promise<RunResult>;
  /** Stop the daemon and every process it started. */
  abstract close(): Promise<void>;
  /**
   * SIGKILL the daemon and everything it started, at once (the test process is exiting: a
   * filtered run ends while scenarios still run). Every process of a run names its root dir.
   */
  killNow(): void {
    killLeftovers(this.root);
  }
  /** The daemon's own messages so far (for failure reports). */
  abstract diagnostics(): string;
}

/** No initctl call of a scenario may take longer (a hang is a failure, not a stuck suite). */
export const COMMAND_TIMEOUT_MS = 30_000;

async function run(
  cmd: string,
  args: readonly string[],
  env: Record<string, string>,
  clearEnv = false,
  timeoutMs = COMMAND_TIMEOUT_MS,
): Promise<RunResult> {
  const child = new Deno.Command(cmd, {
    args: [...args],
    env,
    clearEnv,
    cwd: "/",
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  if (timedOut) {
    throw new Error(`${[cmd, ...args].join(" ")} did not end within ${timeoutMs} ms`);
  }
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Upstart 1.13.2 as a session init (`init --user --no-dbus`), through the oracle package. */
export class UpstartTarget extends Target {
  readonly kind = "upstart";
  #session = "";

  constructor(
    root: string,
    daemonEnv: Readonly<Record<string, string>>,
    readonly oracle: string,
    readonly noStartupEvent = false,
  ) {
    super(root, daemonEnv);
    const lib = `${oracle}/prefix/lib`;
    const bin = `${oracle}/prefix/sbin/initctl`;
    for (const name of PROGRAMS) {
      Deno.writeTextFileSync(
        `${this.bin}/${name}`,
        `#!/bin/bash\nexport LD_LIBRARY_PATH=${lib}\nexec -a ${name} ${bin} "$@"\n`,
        { mode: 0o755 },
      );
    }
  }

  #env(): Record<string, string> {
    const extra = Object.entries(this.daemonEnv).map(([k, v]) => `${k}=${v}`).join(" ");
    return {
      ORACLE_STATE: this.state,
      ORACLE_ENV: extra,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    };
  }

  async start(): Promise<void> {
    const r = await run(
      `${this.oracle}/run-oracle.sh`,
      ["start", this.conf, this.logs, ...(this.noStartupEvent ? ["--no-startup-event"] : [])],
      this.#env(),
      true,
    );
    const m = /UPSTART_SESSION=(\S+)/.exec(r.stdout);
    if (r.code !== 0 || !m) {
      throw new Error(`the Upstart oracle did not start (${r.code}): ${r.stdout}${r.stderr}`);
    }
    this.#session = m[1]!;
  }

  initctl(args: readonly string[], program: string): Promise<RunResult> {
    return run("/bin/bash", [
      "-c",
      'exec -a "$0" "$@"',
      program,
      `${this.oracle}/prefix/sbin/initctl`,
      ...args,
    ], {
      LD_LIBRARY_PATH: `${this.oracle}/prefix/lib`,
      UPSTART_SESSION: this.#session,
      PATH: "/usr/bin:/bin",
    }, true);
  }

  async close(): Promise<void> {
    try {
      await run(
        `${this.oracle}/run-oracle.sh`,
        ["stop"],
        {
          ...this.#env(),
          ORACLE_STOP_TIMEOUT: "20",
        },
        true,
        60_000,
      );
    } finally {
      // init's own command line names the run's conf dir: nothing survives.
      killLeftovers(this.root);
    }
  }

  diagnostics(): string {
    try {
      return Deno.readTextFileSync(`${this.state}/init.stderr`);
    } catch {
      return "";
    }
  }
}

/** upkeep's daemon in a temp dir, driven through `upkeep initctl`. */
export class UpkeepTarget extends Target {
  readonly kind = "upkeep";
  readonly socket: string;
  #daemon: Deno.ChildProcess | null = null;
  #stderr = "";
  #reader: Promise<void> | null = null;

  /**
   * `bootEvents`: start the daemon as it starts by default, with its boot events; otherwise with
   * `--startup-event startup`, as the oracle (a session init) starts: `startup` alone.
   */
  constructor(
    root: string,
    daemonEnv: Readonly<Record<string, string>>,
    readonly bootEvents = false,
    readonly noStartupEvent = false,
  ) {
    super(root, daemonEnv);
    this.socket = `${this.state}/upkeep.sock`;
    const argv = upkeepArgv().map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
    for (const name of PROGRAMS) {
      Deno.writeTextFileSync(
        `${this.bin}/${name}`,
        `#!/bin/sh\nUPKEEP_SOCKET=${this.socket} UPKEEP_ARGV0=${name} exec ${argv} "$@"\n`,
        { mode: 0o755 },
      );
    }
  }

  async start(): Promise<void> {
    const [cmd, ...pre] = upkeepArgv();
    this.#daemon = new Deno.Command(cmd!, {
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
        ...(this.noStartupEvent
          ? ["--no-startup-event"]
          : this.bootEvents
          ? []
          : ["--startup-event", "startup"]),
      ],
      env: { ...this.daemonEnv },
      cwd: "/",
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const dec = new TextDecoder();
    const stderr = this.#daemon.stderr;
    this.#reader = (async () => {
      for await (const chunk of stderr) this.#stderr += dec.decode(chunk, { stream: true });
    })();
    // The probe names the socket with --socket: a process with UPKEEP_SOCKET in its environment
    // while the daemon starts would be taken for a leftover job of a dead predecessor.
    await waitFor(
      async () => (await this.initctl(["--socket", this.socket, "version"], "initctl")).code === 0,
      "upkeep daemon socket",
      30_000,
      50,
    );
  }

  initctl(args: readonly string[], program: string): Promise<RunResult> {
    const [cmd, ...pre] = upkeepArgv();
    const env: Record<string, string> = {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      UPKEEP_ARGV0: program,
    };
    if (args[0] !== "--socket") env.UPKEEP_SOCKET = this.socket;
    for (const k of ["HOME", "DENO_DIR", "TMPDIR"]) {
      const v = Deno.env.get(k);
      if (v !== undefined) env[k] = v;
    }
    return run(cmd!, [...pre, ...args], env, true);
  }

  async close(): Promise<void> {
    const p = this.#daemon;
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
    killLeftovers(this.root);
    removeFifoDirs(this.state); // left when the daemon had to be killed
  }

  override killNow(): void {
    super.killNow();
    removeFifoDirs(this.state); // a killed daemon does not remove its FIFO directory
  }

  diagnostics(): string {
    try {
      return Deno.readTextFileSync(`${this.logs}/upkeep.log`);
    } catch {
      return this.#stderr;
    }
  }
}

/** SIGKILL every process whose command line or environment names this run's dir. */
function killLeftovers(root: string): void {
  for (const pid of jobProcesses(root, true)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
}
