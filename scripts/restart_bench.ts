/**
 * Restart measurement (issue: upkeep restarts, upgrades and crashes without touching its jobs).
 * A real daemon in a temp dir with N steady jobs and one writer of numbered lines at full speed;
 * then, TRIALS times each: `kill -9` of the daemon and a new one started on the same dirs,
 * `initctl reexec`, and `upkeep upgrade` into a copy of this upkeep that reports another version.
 * After each: are the same N pids running, is any job running twice, how long until the daemon
 * answered; at the end, the numbered log: lines lost (gaps), repeated, out of order.
 *
 *   deno run -A scripts/restart_bench.ts [--jobs 100] [--trials 3]
 */

import { PROTOCOL_VERSION } from "../lib/control/protocol.ts";
import { daemonAnswers, sendRequest } from "../lib/control/client.ts";
import { type DaemonDirs, ROOT, startDaemon } from "./daemon_launch.ts";

const args = Deno.args;
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const JOBS = opt("jobs", 100);
const TRIALS = opt("trials", 3);
const root = ROOT;
const deno = Deno.execPath();

const dir = await Deno.makeTempDir({ prefix: "upkeep-restart-" });
Deno.chmodSync(dir, 0o755);
const conf = `${dir}/conf`;
Deno.mkdirSync(conf, { mode: 0o755 });
for (let i = 0; i < JOBS; i++) {
  Deno.writeTextFileSync(
    `${conf}/svc${i}.conf`,
    `start on startup\nrespawn\nexec sleep ${50000 + i}\n`,
    {
      mode: 0o644,
    },
  );
}
Deno.writeTextFileSync(
  `${conf}/writer.conf`,
  "start on startup\nrespawn\nexec perl -e '$i = 0; while (1) { print ++$i, \"\\n\" }'\n",
  { mode: 0o644 },
);
const socket = `${dir}/state/upkeep.sock`;
const dirs: DaemonDirs = { conf, state: `${dir}/state`, log: `${dir}/log`, socket };

async function ask(cmd: string, cmdArgs: string[] = []): Promise<string> {
  const r = await sendRequest(
    socket,
    { v: PROTOCOL_VERSION, cmd, args: cmdArgs, options: {} },
    30_000,
  );
  if (!r.ok) throw new Error(`${cmd}: ${r.error}`);
  return r.out;
}

async function pids(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await ask("list")).split("\n")) {
    const m = /^(\S+) start\/running, process (\d+)/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** How many live processes run each sleep job's command (a duplicate shows as 2). */
function duplicates(): number {
  const counts = new Map<string, number>();
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).split("\0").join(" ").trim();
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      if (/^sleep 5\d{4}$/.test(cmd)) counts.set(cmd, (counts.get(cmd) ?? 0) + 1);
    } catch { /* gone */ }
  }
  return [...counts.values()].filter((n) => n > 1).length;
}

async function waitAllRunning(): Promise<Map<string, number>> {
  for (;;) {
    try {
      const p = await pids();
      if (p.size === JOBS + 1) return p;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function same(a: Map<string, number>, b: Map<string, number>): number {
  let n = 0;
  for (const [k, v] of a) if (k !== "writer" && b.get(k) === v) n++;
  return n;
}

let daemon = startDaemon(dirs);
await daemonAnswers(socket, 30_000);
const first = await waitAllRunning();
console.log(`jobs: ${JOBS} steady + 1 writer of numbered lines`);

async function trial(kind: string, act: () => Promise<void>): Promise<void> {
  const before = await pids();
  const t0 = performance.now();
  await act();
  const ok = await daemonAnswers(socket, 30_000);
  const answered = performance.now() - t0;
  const after = await pids();
  console.log(
    `${kind}: daemon answered again after ${answered.toFixed(0)} ms${ok ? "" : " (NOT)"}; ` +
      `same pids ${same(before, after)}/${JOBS}; jobs running twice: ${duplicates()}; ` +
      `writer kept: ${before.get("writer") === after.get("writer")}`,
  );
}

for (let t = 1; t <= TRIALS; t++) {
  await trial(`kill -9 #${t}`, async () => {
    daemon.kill("SIGKILL");
    await daemon.status;
    daemon = startDaemon(dirs);
  });
}
for (let t = 1; t <= TRIALS; t++) {
  await trial(`initctl reexec #${t}`, async () => {
    await ask("reexec");
  });
}

// A copy of this upkeep that reports another version, behind a launcher script.
const next = `${dir}/next`;
Deno.mkdirSync(next);
await new Deno.Command("cp", {
  args: ["-r", `${root}/lib`, `${root}/main.ts`, `${root}/deno.json`, next],
})
  .output();
const v = `${next}/lib/version.ts`;
Deno.writeTextFileSync(
  v,
  Deno.readTextFileSync(v).replace(/VERSION = "[^"]*"/, 'VERSION = "9.9.9-next"'),
);
const launcher = `${next}/upkeep-next`;
Deno.writeTextFileSync(launcher, `#!/bin/sh\nexec ${deno} run -A --quiet ${next}/main.ts "$@"\n`);
Deno.chmodSync(launcher, 0o755);
for (let t = 1; t <= TRIALS; t++) {
  await trial(`upkeep upgrade #${t}`, async () => {
    const out = await new Deno.Command(deno, {
      args: ["run", "-A", "--quiet", `${root}/main.ts`, "upgrade", "--socket", socket, launcher],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  });
}
console.log(`version now: ${await ask("version")}`);
console.log(`same pids as at the start: ${same(first, await pids())}/${JOBS}`);

// The numbered log: stop the writer first so the file is complete.
await ask("stop", ["writer"]);
// Streamed: at full speed the writer fills gigabytes in these few seconds.
let expected = 1, lost = 0, repeated = 0, lines = 0, restarts = 0, bytes = 0;
let partial = "";
const file = await Deno.open(`${dir}/log/writer.log`);
const dec = new TextDecoder();
for await (const chunk of file.readable) {
  bytes += chunk.length;
  const parts = (partial + dec.decode(chunk, { stream: true })).split("\n");
  partial = parts.pop()!;
  for (const line of parts) {
    if (!/^\d+$/.test(line)) continue;
    const n = Number(line);
    lines++;
    if (n === 1 && expected !== 1) restarts++, expected = 1;
    if (n > expected) lost += n - expected;
    else if (n < expected) repeated++;
    expected = n + 1;
  }
}
console.log(
  `numbered log: ${lines} lines (${(bytes / 1e9).toFixed(1)} GB), ${lost} lost, ${repeated} ` +
    `repeated, writer restarted ${restarts} times`,
);

daemon.kill("SIGTERM");
await daemon.status;
await Deno.remove(dir, { recursive: true });
