/**
 * Footprint measurement (issue: an idle daemon that sleeps, memory near Deno's floor, initctl
 * near Deno's start-up, 1,000 jobs in a second). Each figure is measured next to an empty Deno
 * process in the same run:
 *
 * - memory (PSS, USS = private, RSS from /proc/PID/smaps_rollup) of the daemon with N idle jobs,
 *   and of an empty `deno run` script;
 * - idle: CPU time (schedstat) and voluntary context switches of the daemon's threads over a
 *   window with 100 idle jobs;
 * - PSS before and after 10,000 respawns and 10,000 status queries;
 * - `initctl status JOB` wall time against an empty `deno run`, p50 over RUNS;
 * - time from the daemon's start until 1,000 jobs run, and the memory then; `reload-configuration`
 *   of 1,000 unchanged files; and, for the floor, the time a bare `deno run` takes to
 *   posix_spawn 1,000 `sleep`s through FFI.
 *
 *   deno run -A scripts/footprint.ts [--idle-seconds 30] [--runs 20] [--big 1000]
 */

import { PROTOCOL_VERSION } from "../lib/control/protocol.ts";
import { daemonAnswers, sendRequest } from "../lib/control/client.ts";
import { startDaemon } from "./daemon_launch.ts";

const args = Deno.args;
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const IDLE_S = opt("idle-seconds", 30);
const RUNS = opt("runs", 20);
const BIG = opt("big", 1000);
const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const deno = Deno.execPath();
const tmp = await Deno.makeTempDir({ prefix: "upkeep-footprint-" });
Deno.chmodSync(tmp, 0o755);
const EMPTY = `${tmp}/empty.ts`;
Deno.writeTextFileSync(
  EMPTY,
  "await new Promise((r) => setTimeout(r, Number(Deno.args[0] ?? 0)));\n",
);

/**
 * The floor for "N jobs running": a bare Deno script that posix_spawns N `sleep`s through FFI,
 * one after another on its main thread as the daemon does, prints a line once all are spawned,
 * then kills and reaps them.
 */
const SPAWN_FLOOR = `${tmp}/spawn_floor.ts`;
Deno.writeTextFileSync(
  SPAWN_FLOOR,
  `const n = Number(Deno.args[0]);
const libc = Deno.dlopen("libc.so.6", {
  posix_spawn: { parameters: ["buffer", "buffer", "pointer", "pointer", "buffer", "buffer"], result: "i32" },
  waitpid: { parameters: ["i32", "pointer", "i32"], result: "i32" },
}).symbols;
const enc = new TextEncoder();
const cstr = (s) => enc.encode(s + "\\0");
const sleep = ["/usr/bin/sleep", "/bin/sleep"].find((p) => { try { return Deno.statSync(p).isFile; } catch { return false; } });
const strings = [cstr(sleep), cstr("sleep"), cstr("100107")];
const ptr = (b) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
const argv = new BigUint64Array([ptr(strings[1]), ptr(strings[2]), 0n]);
const envp = new BigUint64Array([0n]);
const pid = new Int32Array(1);
const pids = [];
for (let i = 0; i < n; i++) {
  if (libc.posix_spawn(pid, strings[0], null, null, argv, envp) === 0) pids.push(pid[0]);
}
console.log(pids.length);
for (const p of pids) Deno.kill(p, "SIGKILL");
for (const p of pids) libc.waitpid(p, null, 0);
`,
);

interface Mem {
  pss: number;
  uss: number;
  rss: number;
}

function mem(pid: number): Mem {
  const text = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
  return {
    pss: kb("Pss") / 1024,
    uss: (kb("Private_Clean") + kb("Private_Dirty")) / 1024,
    rss: kb("Rss") / 1024,
  };
}

async function emptyDenoMem(): Promise<Mem> {
  const p = new Deno.Command(deno, { args: ["run", "-A", EMPTY, "5000"], stdout: "null" }).spawn();
  await new Promise((r) => setTimeout(r, 1500));
  const m = mem(p.pid);
  p.kill("SIGKILL");
  await p.status;
  return m;
}

/** A daemon in its own dir with `n` jobs of `command`. */
async function daemon(n: number, command: string, name: string) {
  const dir = `${tmp}/${name}`;
  Deno.mkdirSync(`${dir}/conf`, { recursive: true, mode: 0o755 });
  for (let i = 0; i < n; i++) {
    Deno.writeTextFileSync(
      `${dir}/conf/job${i}.conf`,
      `start on startup\nrespawn\nrespawn limit unlimited\nexec ${command}\n`,
      { mode: 0o644 },
    );
  }
  const socket = `${dir}/state/upkeep.sock`;
  const t0 = performance.now();
  const proc = startDaemon({
    conf: `${dir}/conf`,
    state: `${dir}/state`,
    log: `${dir}/log`,
    socket,
  }, { root });
  const ask = async (cmd: string, a: string[] = [], json = false) => {
    const r = await sendRequest(
      socket,
      { v: PROTOCOL_VERSION, cmd, args: a, options: json ? { json: true } : {} },
      60_000,
    );
    if (!r.ok) throw new Error(r.error);
    return r.out;
  };
  await daemonAnswers(socket, 60_000);
  return { proc, socket, ask, t0, dir };
}

/** Wait until `n` jobs run (list); returns the time since the daemon was launched. */
async function allRunning(d: Awaited<ReturnType<typeof daemon>>, n: number): Promise<number> {
  for (;;) {
    const running = (await d.ask("list")).split("\n").filter((l) => /start\/running/.test(l));
    if (running.length >= n) return performance.now() - d.t0;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stop(d: Awaited<ReturnType<typeof daemon>>): Promise<void> {
  d.proc.kill("SIGTERM");
  await d.proc.status;
}

function threadStats(pid: number): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const e of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const st = Deno.readTextFileSync(`/proc/${pid}/task/${e.name}/status`);
      const vc = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0);
      const ns = Number(
        Deno.readTextFileSync(`/proc/${pid}/task/${e.name}/schedstat`).split(" ")[0],
      );
      out.set(e.name, [vc, ns]);
    } catch { /* gone */ }
  }
  return out;
}

const fmt = (n: number, d = 1) => n.toFixed(d);
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// 1. Memory with N idle jobs, and idle CPU at N=100.
const empty = await emptyDenoMem();
console.log(
  `empty deno: PSS ${fmt(empty.pss)} MB, USS ${fmt(empty.uss)} MB, RSS ${fmt(empty.rss)} MB`,
);
for (const n of [1, 10, 100]) {
  const d = await daemon(n, "sleep 100100", `mem${n}`);
  await allRunning(d, n);
  await new Promise((r) => setTimeout(r, 1000));
  const m = mem(d.proc.pid);
  console.log(
    `daemon N=${n}: PSS ${fmt(m.pss)} MB (+${fmt(m.pss - empty.pss)}), USS ${fmt(m.uss)} MB ` +
      `(+${fmt(m.uss - empty.uss)}), RSS ${fmt(m.rss)} MB`,
  );
  if (n === 100) {
    const a = threadStats(d.proc.pid);
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const b = threadStats(d.proc.pid);
    let wake = 0, ns = 0;
    for (const [t, [vc, cpu]] of b) {
      const [pv, pc] = a.get(t) ?? [0, 0];
      wake += vc - pv;
      ns += cpu - pc;
    }
    console.log(
      `idle, 100 jobs, ${IDLE_S} s: CPU ${fmt(ns / 1e6, 2)} ms, wakeups ${fmt(wake / IDLE_S, 2)}/s`,
    );
  }
  await stop(d);
}

// 2. Memory after 10,000 respawns and 10,000 status queries.
{
  const d = await daemon(20, "sh -c 'exit 1'", "churn");
  await new Promise((r) => setTimeout(r, 1500));
  const before = mem(d.proc.pid);
  for (;;) {
    const list = JSON.parse(await d.ask("list", [], true)) as { respawns: number }[];
    if (list.reduce((s, j) => s + j.respawns, 0) >= 10_000) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  for (let i = 0; i < 20; i++) await d.ask("stop", [`job${i}`]);
  for (let i = 0; i < 10_000; i++) await d.ask("status", [`job${i % 20}`]);
  await new Promise((r) => setTimeout(r, 1500));
  const after = mem(d.proc.pid);
  console.log(
    `after 10,000 respawns and 10,000 status queries: PSS ${fmt(before.pss)} -> ` +
      `${fmt(after.pss)} MB (${after.pss >= before.pss ? "+" : ""}${fmt(after.pss - before.pss)})`,
  );
  await stop(d);
}

// 3. initctl status against an empty deno run.
{
  const d = await daemon(10, "sleep 100101", "status");
  await allRunning(d, 10);
  const time = async (argv: string[]) => {
    const t0 = performance.now();
    await new Deno.Command(argv[0]!, { args: argv.slice(1), stdout: "null", stderr: "null" })
      .output();
    return performance.now() - t0;
  };
  const s: number[] = [], e: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    s.push(
      await time([
        deno,
        "run",
        "-A",
        "--quiet",
        `${root}/main.ts`,
        "initctl",
        "--socket",
        d.socket,
        "status",
        "job1",
      ]),
    );
    e.push(await time([deno, "run", "-A", "--quiet", EMPTY]));
  }
  console.log(
    `initctl status p50 ${fmt(p50(s))} ms, empty deno run p50 ${fmt(p50(e))} ms ` +
      `(${p50(s) >= p50(e) ? "+" : ""}${fmt(p50(s) - p50(e))} ms)`,
  );
  await stop(d);
}

// 4. 1,000 jobs from start, and a reload of 1,000 unchanged files.
{
  const d = await daemon(BIG, "sleep 100102", "big");
  const up = await allRunning(d, BIG);
  await new Promise((r) => setTimeout(r, 1000));
  const m = mem(d.proc.pid);
  console.log(
    `daemon N=${BIG}: PSS ${fmt(m.pss)} MB (+${fmt(m.pss - empty.pss)}), USS ${fmt(m.uss)} MB ` +
      `(+${fmt(m.uss - empty.uss)}), RSS ${fmt(m.rss)} MB`,
  );
  const t0 = performance.now();
  await d.ask("reload-configuration");
  const reload = performance.now() - t0;
  console.log(
    `${BIG} jobs all running ${fmt(up, 0)} ms after the daemon's launch; ` +
      `reload-configuration of ${BIG} unchanged files ${fmt(reload)} ms`,
  );
  await stop(d);
  console.log(`a bare deno run that posix_spawns ${BIG} sleeps: ${fmt(await spawnFloor(), 0)} ms`);
}

/** Time from launching SPAWN_FLOOR until it says all its sleeps are spawned. */
async function spawnFloor(): Promise<number> {
  const t0 = performance.now();
  const p = new Deno.Command(deno, {
    args: ["run", "-A", "--quiet", SPAWN_FLOOR, String(BIG)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = p.stdout.getReader();
  const first = await reader.read();
  const ms = performance.now() - t0;
  if (first.done || Number(new TextDecoder().decode(first.value).trim()) !== BIG) {
    throw new Error("the spawn floor script did not spawn every sleep");
  }
  reader.releaseLock();
  await p.stdout.cancel();
  await p.status;
  return ms;
}

await Deno.remove(tmp, { recursive: true });
