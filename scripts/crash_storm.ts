/**
 * Crash-storm measurement (issue: a daemon that nothing can stall). Starts a real daemon in a temp
 * dir with N jobs that crash 10 ms after each start (`respawn limit unlimited`) and one steady
 * job, then for DURATION seconds asks the status of the steady job over the raw control socket
 * (no initctl start-up in the figure) several times a second, and samples the daemon's zombies,
 * RSS and log size once a second. Then SIGTERM: how long the daemon takes to exit and what is
 * left. Prints one figure per line.
 *
 *   deno run -A scripts/crash_storm.ts [--jobs 50] [--seconds 60] [--keep]
 */

import { PROTOCOL_VERSION } from "../lib/control/protocol.ts";
import { sendRequest } from "../lib/control/client.ts";
import { startDaemon } from "./daemon_launch.ts";

const args = Deno.args;
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const JOBS = opt("jobs", 50);
const SECONDS = opt("seconds", 60);

const dir = await Deno.makeTempDir({ prefix: "upkeep-storm-" });
const conf = `${dir}/conf`;
Deno.mkdirSync(conf);
for (let i = 0; i < JOBS; i++) {
  Deno.writeTextFileSync(
    `${conf}/crash${i}.conf`,
    "start on startup\nrespawn\nrespawn limit unlimited\nexec sh -c 'sleep 0.01; exit 1'\n",
  );
}
Deno.writeTextFileSync(`${conf}/steady.conf`, "start on startup\nexec sleep 100000\n");
const socket = `${dir}/state/upkeep.sock`;
const v8 = args.find((a) => a.startsWith("--v8-flags="));
const daemon = startDaemon(
  { conf, state: `${dir}/state`, log: `${dir}/log`, socket },
  { denoFlags: v8 ? [v8] : [] },
);

/** One `status steady` round trip over the socket, in this process (no initctl start-up). */
async function statusOnce(timeoutMs = 10_000): Promise<number> {
  const t0 = performance.now();
  try {
    const req = { v: PROTOCOL_VERSION, cmd: "status", args: ["steady"], options: {} };
    const r = await sendRequest(socket, req, timeoutMs);
    return r.ok && r.out.includes("steady") ? performance.now() - t0 : Infinity;
  } catch {
    return Infinity;
  }
}

function procStat(pid: number): { ppid: number; state: string } | null {
  try {
    const t = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = t.slice(t.lastIndexOf(")") + 2).split(" ");
    return { state: f[0]!, ppid: Number(f[1]) };
  } catch {
    return null;
  }
}

function zombiesOf(pid: number): number {
  let n = 0;
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const s = procStat(Number(e.name));
    if (s && s.ppid === pid && s.state === "Z") n++;
  }
  return n;
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function size(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

/** Processes whose environment names this run's socket (jobs of this daemon). */
function jobProcesses(): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const env = Deno.readTextFileSync(`/proc/${e.name}/environ`);
      const s = procStat(Number(e.name));
      if (env.includes(dir) && s && s.state !== "Z") out.push(Number(e.name));
    } catch { /* gone */ }
  }
  return out;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

// Wait for the daemon to answer.
const startDeadline = performance.now() + 15_000;
while (!isFinite(await statusOnce(500)) && performance.now() < startDeadline) {
  await new Promise((r) => setTimeout(r, 100));
}

const latencies: number[] = [];
const zombies: number[] = [];
const rss: number[] = [];
const t0 = performance.now();
let stop = false;
const asker = (async () => {
  while (!stop) {
    latencies.push(await statusOnce());
    await new Promise((r) => setTimeout(r, 100));
  }
})();
for (let s = 1; s <= SECONDS; s++) {
  await new Promise((r) => setTimeout(r, t0 + s * 1000 - performance.now()));
  zombies.push(zombiesOf(daemon.pid));
  rss.push(rssMb(daemon.pid));
}
stop = true;
await asker;
const respawns = (Deno.readTextFileSync(`${dir}/log/upkeep.log`).match(/respawning/g) ?? []).length;
/** Respawns done so far, summed over every job (`list --json`). */
async function totalRespawns(): Promise<number> {
  try {
    const req = { v: PROTOCOL_VERSION, cmd: "list", args: [], options: { json: true } };
    const r = await sendRequest(socket, req, 10_000);
    if (!r.ok) return NaN;
    return (JSON.parse(r.out) as { respawns: number }[]).reduce((a, j) => a + j.respawns, 0);
  } catch {
    return NaN;
  }
}
const done = await totalRespawns();
const logBytes = size(`${dir}/log/upkeep.log`);

const tTerm = performance.now();
daemon.kill("SIGTERM");
const exited = await Promise.race([
  daemon.status.then(() => true),
  new Promise<boolean>((r) => setTimeout(() => r(false), 30_000)),
]);
const termMs = performance.now() - tTerm;
const left = jobProcesses();
if (!exited) daemon.kill("SIGKILL");
for (const pid of left) {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch { /* gone */ }
}

const finite = latencies.filter(isFinite);
const fmt = (n: number) => n.toFixed(1);
console.log(
  `jobs crashing: ${JOBS}, seconds: ${SECONDS}, respawns: ${done} (${
    (done / SECONDS).toFixed(0)
  }/s)`,
);
console.log(
  `status requests: ${latencies.length}, answered: ${finite.length}, ` +
    `p50 ${fmt(pct(finite, 50))} ms, p99 ${fmt(pct(latencies, 99))} ms, max ${
      fmt(Math.max(...latencies))
    } ms`,
);
console.log(
  `zombies per sample: max ${Math.max(...zombies)}, mean ${
    fmt(zombies.reduce((a, b) => a + b, 0) / zombies.length)
  }`,
);
const at10 = rss[Math.min(9, rss.length - 1)]!;
console.log(
  `daemon RSS: ${fmt(rss[0]!)} MB at 1 s, ${fmt(at10)} MB at 10 s, ${
    fmt(rss[rss.length - 1]!)
  } MB at ${SECONDS} s (growth after 10 s: ${fmt(rss[rss.length - 1]! - at10)} MB)`,
);
console.log(`daemon log: ${(logBytes / 1024).toFixed(0)} KiB (respawn lines logged: ${respawns})`);
console.log(
  `SIGTERM: ${exited ? `exited in ${fmt(termMs)} ms` : "did not exit within 30 s"}, ` +
    `job processes left: ${left.length}`,
);
if (args.includes("--rss")) {
  console.log(`RSS per second: ${rss.map((r) => r.toFixed(0)).join(" ")}`);
}
if (!args.includes("--keep")) await Deno.remove(dir, { recursive: true });
else console.log(`kept: ${dir}`);
