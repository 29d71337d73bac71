/**
 * Simulated boots for the install tests: install upkeep into a temp root, read back the artifact
 * the init would use, run its command with paths mapped into the root, find the daemon and the
 * jobs' processes through /proc, and clean every process up.
 */

import { pidAlive, REPO_ROOT, runUpkeep, tempDir, waitFor } from "./helpers.ts";
import { jobProcesses } from "./daemon_helpers.ts";
import {
  cronCommands,
  inittabCommand,
  mapIntoRoot,
  openrcCommand,
  systemdExecStart,
} from "../../lib/install/boot_command.ts";

/** The init flavours, and how a temp root is made to look like a host booted by each. */
export type Flavour = "systemd" | "openrc" | "sysvinit" | "busybox" | "cron";

export async function prepareRoot(root: string, flavour: Flavour): Promise<void> {
  const mk = (p: string) => Deno.mkdir(`${root}${p}`, { recursive: true });
  switch (flavour) {
    case "systemd":
      await mk("/run/systemd/system");
      break;
    case "openrc":
      await mk("/sbin");
      await Deno.writeTextFile(`${root}/sbin/openrc-run`, "#!/bin/sh\n");
      break;
    case "sysvinit":
      await mk("/etc");
      await Deno.writeTextFile(
        `${root}/etc/inittab`,
        "id:2:initdefault:\nsi::sysinit:/etc/init.d/rcS\n1:2345:respawn:/sbin/getty 38400 tty1\n",
      );
      break;
    case "busybox":
      await mk("/etc");
      await Deno.writeTextFile(
        `${root}/etc/inittab`,
        "::sysinit:/etc/init.d/rcS\ntty1::respawn:/sbin/getty 38400 tty1\n",
      );
      break;
    case "cron":
      break;
  }
}

/** The artifact's boot command and the command that brings upkeep back after it died. */
export interface BootCommands {
  readonly boot: string[];
  /** cron: the every-minute watchdog line; the others: the init respawns the boot command. */
  readonly again: string[];
  /** True when `boot` runs the daemon in the foreground (the init supervises it). */
  readonly foreground: boolean;
}

/** Read the artifact install wrote for `flavour` under root and extract its commands, mapped. */
export async function bootCommands(root: string, flavour: Flavour): Promise<BootCommands> {
  const read = (p: string) => Deno.readTextFile(`${root}${p}`);
  let argv: string[] | null;
  switch (flavour) {
    case "systemd":
      argv = systemdExecStart(await read("/etc/systemd/system/upkeep.service"));
      break;
    case "openrc":
      argv = openrcCommand(await read("/etc/init.d/upkeep"));
      break;
    case "sysvinit":
    case "busybox":
      argv = inittabCommand(await read("/etc/inittab"));
      break;
    case "cron": {
      const c = cronCommands(await read("/etc/cron.d/upkeep"), true);
      if (!c.reboot || !c.watchdog) throw new Error("cron.d file lacks @reboot or watchdog line");
      return {
        boot: mapIntoRoot(c.reboot, root),
        again: mapIntoRoot(c.watchdog, root),
        foreground: false,
      };
    }
  }
  if (!argv) throw new Error(`no boot command found in the ${flavour} artifact`);
  const mapped = mapIntoRoot(argv, root);
  return { boot: mapped, again: mapped, foreground: true };
}

/** A process the simulated init started (foreground daemon), or null for a command that exited. */
export async function runBoot(
  argv: string[],
  foreground: boolean,
): Promise<Deno.ChildProcess | null> {
  const [cmd, ...args] = argv;
  if (foreground) {
    return new Deno.Command(cmd!, { args, stdin: "null", stdout: "null", stderr: "null" }).spawn();
  }
  const out = await new Deno.Command(cmd!, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(
      `${argv.join(" ")} exited ${out.code}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return null;
}

/** Pids of upkeep daemons whose command line names `marker` (the temp root). */
export function daemonPids(marker: string): number[] {
  const found: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    try {
      const argv = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).split("\0");
      if (
        argv.includes("daemon") && argv.some((a) => a.startsWith(marker)) &&
        pidAlive(Number(e.name))
      ) {
        found.push(Number(e.name));
      }
    } catch { /* gone */ }
  }
  // A child of a daemon caught between its posix_spawn (vfork) and its exec still shows the
  // daemon's command line: it is not another daemon.
  return found.filter((pid) => !found.includes(parentOf(pid)));
}

function parentOf(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return 0;
  }
}

/**
 * Per job name, the job processes that lead their own session (each job instance's main process
 * runs in its own session) and belong to the daemon whose socket is `socket`.
 */
export function jobLeaders(socket: string): Map<string, number[]> {
  const byJob = new Map<string, number[]>();
  for (const pid of jobProcesses(socket)) {
    try {
      const environ = Deno.readTextFileSync(`/proc/${pid}/environ`).split("\0");
      const job = environ.find((v) => v.startsWith("UPSTART_JOB="))?.slice("UPSTART_JOB=".length);
      const instance = environ.find((v) => v.startsWith("UPSTART_INSTANCE="))?.slice(17) ?? "";
      if (!job || !environ.includes(`UPKEEP_SOCKET=${socket}`)) continue;
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      const sid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
      if (sid !== pid) continue;
      const key = instance ? `${job} (${instance})` : job;
      byJob.set(key, [...(byJob.get(key) ?? []), pid]);
    } catch { /* gone */ }
  }
  return byJob;
}

export interface StatusObject {
  name: string;
  instance: string;
  goal: string;
  state: string;
  pid: number | null;
}

/** `initctl status --json` through the socket, or null when the daemon does not answer. */
export async function statusJson(socket: string): Promise<StatusObject[] | null> {
  const r = await runUpkeep(["initctl", "--socket", socket, "status", "--json"]);
  return r.code === 0 ? JSON.parse(r.stdout) as StatusObject[] : null;
}

/** Wait until every job in `names` is start/running; returns their main pids. */
export async function waitJobsRunning(
  socket: string,
  names: readonly string[],
  timeoutMs = 30_000,
): Promise<Map<string, number>> {
  return await waitFor(
    async () => {
      const jobs = await statusJson(socket);
      if (!jobs) return null;
      const pids = new Map<string, number>();
      for (const n of names) {
        const j = jobs.find((x) => x.name === n && x.goal === "start" && x.state === "running");
        if (!j?.pid) return null;
        pids.set(n, j.pid);
      }
      return pids;
    },
    `jobs ${names.join(", ")} running`,
    timeoutMs,
    100,
  );
}

/** Copy examples/init/*.conf into ROOT/etc/init. */
export async function copyExampleJobs(root: string): Promise<string[]> {
  const names: string[] = [];
  await Deno.mkdir(`${root}/etc/init`, { recursive: true });
  for await (const e of Deno.readDir(`${REPO_ROOT}/examples/init`)) {
    if (!e.name.endsWith(".conf")) continue;
    await Deno.copyFile(`${REPO_ROOT}/examples/init/${e.name}`, `${root}/etc/init/${e.name}`);
    names.push(e.name.slice(0, -5));
  }
  return names.sort();
}

/** Stop the daemons of this root (TERM, then KILL after 20 s) and kill any job process left. */
export async function cleanupRoot(root: string, socket: string): Promise<void> {
  for (const pid of daemonPids(root)) {
    try {
      Deno.kill(pid, "SIGTERM");
    } catch { /* gone */ }
  }
  await waitFor(() => daemonPids(root).length === 0, "daemons to exit", 20_000, 50).catch(() => {
    for (const pid of daemonPids(root)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
  });
  for (const pid of [...jobProcesses(socket), ...jobProcesses(root)]) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
}

/** A temp root whose paths (and socket) stay short enough for a Unix socket address. */
export async function tempRoot(): Promise<{ path: string; cleanup(): Promise<void> }> {
  const t = await tempDir("upk-");
  await Deno.chmod(t.path, 0o755);
  return t;
}
