/**
 * Figures for docs/security.md (issue 13) and issue 12's reply size, on a real daemon (root only):
 *
 *   flood    5,000 idle connections from `nobody` on the read-only socket, the daemon under a
 *            4096 open-files limit: root's `status` latency over the owner's socket (p50/p99/max
 *            of 200 requests), daemon CPU and open fds during the flood.
 *   stuck    1,000 `nobody` clients that send `usage big` (a 270 KB reply) and never read: daemon
 *            RSS and fds while they stay connected, sampled for 15 s.
 *   spawn    spawn-to-exit of /bin/true: posix_spawn directly vs through the set-up helper.
 *   list     `initctl list --json` with 5,000 jobs: reply size and time.
 *
 * Usage: deno run -A scripts/security_bench.ts [flood] [stuck] [spawn] [list]   (all by default)
 */

import { TestDaemon } from "../tests/e2e/daemon_helpers.ts";
import { spawnScriptAsNobody } from "../tests/e2e/as_nobody.ts";
import { runUpkeep, testHelperCommand, waitFor } from "../tests/e2e/helpers.ts";
import { PROTOCOL_VERSION } from "../lib/control/protocol.ts";
import { sendRequest } from "../lib/control/client.ts";
import { spawnProcess } from "../lib/process/fast_spawn.ts";
import { waitpidNoHang } from "../lib/process/ffi.ts";
import { planProcess } from "../lib/process/plan.ts";
import { loadUserDb } from "../lib/process/users.ts";
import { defaultJob } from "../lib/job/model.ts";

const IDLE_FLOODER = `
const [path, countText] = Deno.args;
const conns = [];
while (conns.length < Number(countText)) {
  try { conns.push(await Deno.connect({ transport: "unix", path })); }
  catch { await new Promise((r) => setTimeout(r, 2)); }
}
console.log("open " + conns.length);
setInterval(() => {}, 1000);
`;

const NON_READER = `
const [path, countText, request] = Deno.args;
const conns = [];
const bytes = new TextEncoder().encode(request + "\\n");
while (conns.length < Number(countText)) {
  try { const c = await Deno.connect({ transport: "unix", path }); c.write(bytes).catch(() => {}); conns.push(c); }
  catch { await new Promise((r) => setTimeout(r, 2)); }
}
console.log("sent " + conns.length);
setInterval(() => {}, 1000);
`;

const LOW_FD_LIMIT = ["/bin/sh", "-c", 'ulimit -n 4096 && exec "$@"', "sh"];

function pct(sorted: number[], q: number): number {
  return Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2));
}

function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}

const fds = (pid: number) => [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
const rssMb = (pid: number) =>
  Number(/^VmRSS:\s+(\d+)/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`))?.[1]) / 1024;

async function firstLine(child: Deno.ChildProcess): Promise<string> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return text.trim();
}

async function statusTimes(socket: string, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await sendRequest(socket, {
      v: PROTOCOL_VERSION,
      cmd: "status",
      args: ["web"],
      options: {},
    }, 30_000).catch(() => null);
    times.push(r?.ok ? performance.now() - t0 : 30_000);
  }
  return times.sort((a, b) => a - b);
}

async function flood(): Promise<void> {
  const d = await TestDaemon.create({ web: "exec sleep 1000\n" });
  await d.start([], LOW_FD_LIMIT);
  const pid = d.process!.pid;
  try {
    const calm = await statusTimes(d.socket, 200);
    const child = await spawnScriptAsNobody(IDLE_FLOODER, [`${d.socket}.ro`, "5000"]);
    const line = await firstLine(child);
    const t0 = cpuTicks(pid), w0 = performance.now();
    const busy = await statusTimes(d.socket, 200);
    await new Promise((r) => setTimeout(r, 3000));
    const cpu = (cpuTicks(pid) - t0) / 100 / ((performance.now() - w0) / 1000) * 100;
    console.log(
      `flood: flooder "${line}"; root status over the owner socket, ms: calm p50 ${
        pct(calm, 0.5)
      } p99 ${pct(calm, 0.99)}; flooded p50 ${pct(busy, 0.5)} p99 ${pct(busy, 0.99)} max ${
        pct(busy, 1)
      }; daemon CPU ${cpu.toFixed(0)} %, open fds ${fds(pid)}`,
    );
    child.kill("SIGKILL");
    await child.status;
  } finally {
    await d.close();
  }
}

async function stuck(): Promise<void> {
  const d = await TestDaemon.create({ big: `usage "${"u".repeat(270_000)}"\nexec sleep 1000\n` });
  await d.start();
  const pid = d.process!.pid;
  try {
    const before = rssMb(pid);
    const request = JSON.stringify({
      v: PROTOCOL_VERSION,
      cmd: "usage",
      args: ["big"],
      options: {},
    });
    const child = await spawnScriptAsNobody(NON_READER, [`${d.socket}.ro`, "1000", request]);
    const line = await firstLine(child);
    let peak = 0, peakFds = 0;
    const samples: string[] = [];
    for (let t = 0; t <= 15_000; t += 250) {
      peak = Math.max(peak, rssMb(pid));
      peakFds = Math.max(peakFds, fds(pid));
      if (t % 5000 === 0) samples.push(`${t / 1000}s ${rssMb(pid).toFixed(0)} MB/${fds(pid)} fds`);
      await new Promise((r) => setTimeout(r, 250));
    }
    console.log(
      `stuck: "${line}"; daemon RSS before ${before.toFixed(0)} MB, peak ${peak.toFixed(0)} MB ` +
        `(+${(peak - before).toFixed(0)}), peak fds ${peakFds}; while still connected: ${
          samples.join(", ")
        }`,
    );
    child.kill("SIGKILL");
    await child.status;
  } finally {
    await d.close();
  }
}

async function spawn(): Promise<void> {
  const users = loadUserDb();
  const time = async (over: Record<string, unknown>) => {
    const r = planProcess({
      job: { ...defaultJob("t", ""), console: "none", main: { exec: "/bin/true" }, ...over },
      kind: "main",
      env: { PATH: "/usr/bin:/bin" },
      logFile: null,
      users,
      daemonUmask: Deno.umask(),
      helper: testHelperCommand(),
    });
    if ("error" in r) throw new Error(r.error);
    const times: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      const { pid } = spawnProcess(r.plan);
      await waitFor(() => waitpidNoHang(pid), "exit", 10_000, 1);
      times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b);
  };
  const direct = await time({});
  const helper = await time({ nice: 1 });
  console.log(
    `spawn->exit of /bin/true, ms: posix_spawn p50 ${pct(direct, 0.5)} p90 ${
      pct(direct, 0.9)
    }; with the set-up helper (${testHelperCommand().argv[0]}) p50 ${pct(helper, 0.5)} p90 ${
      pct(helper, 0.9)
    }`,
  );
}

async function list(): Promise<void> {
  const d = await TestDaemon.create();
  for (let i = 0; i < 5000; i++) d.writeJob(`job${i}`, `start on never-${i}\nexec sleep 1000\n`);
  const t0 = performance.now();
  await d.start();
  const started = performance.now() - t0;
  try {
    const t1 = performance.now();
    const r = await runUpkeep(["initctl", "--socket", d.socket, "list", "--json"]);
    const took = performance.now() - t1;
    const n = r.code === 0 ? JSON.parse(r.stdout).length : 0;
    console.log(
      `list: 5,000 jobs loaded in ${started.toFixed(0)} ms; initctl list --json exit ${r.code}, ` +
        `${n} objects, ${(r.stdout.length / 1024 / 1024).toFixed(1)} MB in ${took.toFixed(0)} ms` +
        (r.code ? ` (${r.stderr.trim()})` : ""),
    );
  } finally {
    await d.close();
  }
}

const all: Record<string, () => Promise<void>> = { flood, stuck, spawn, list };
for (const name of Deno.args.length ? Deno.args : Object.keys(all)) {
  const run = all[name];
  if (!run) throw new Error(`unknown part '${name}'`);
  await run();
}
