/**
 * Log throughput and exactness, the shared bench's log test with upkeep's log options: one job
 * (`../shared/bench/helpers/logwriter.c`, built with cc) writes 100 MB as 1,000,000 numbered
 * 100-byte lines in 65,500-byte writes; the time from its first write until the log files hold
 * every byte, then every line is checked (lost, duplicated, malformed) and every rotated file's
 * size against the limit. Scenarios:
 *
 *   plain       the daemon's defaults (no rotation within 100 MB)
 *   rotate      log rotate 10M 20
 *   timestamps  log rotate 10M 20 + log timestamps (RFC 3339)
 *   tai64n      log rotate 10M 20 + log timestamps tai64n
 *   kill9       log rotate 10M 20; the daemon is killed (SIGKILL) at ~30 MB and a new one started
 *               on the same state dir: every line the writer wrote is there exactly once
 *
 * While the log is written, `initctl status logjob` is asked over the socket every 20 ms: its
 * latency (p50, p99, max) shows whether the daemon's loop stays responsive.
 *
 * Usage: deno run -A scripts/log_bench.ts [--upkeep DIR] [--mb N] [--runs N] [SCENARIO...]
 * (--upkeep: another checkout to measure, e.g. /work/main for today's direct-to-file logs).
 */

const args = [...Deno.args];
function option(name: string, fallback: string): string {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = args[i + 1] ?? fallback;
  args.splice(i, 2);
  return v;
}
const UPKEEP = option("--upkeep", ROOT);
const MB = Number(option("--mb", "100"));
const RUNS = Number(option("--runs", "1"));
const SCENARIOS = args.length ? args : ["plain", "rotate", "timestamps", "tai64n", "kill9"];
const TOTAL = MB * 1_000_000;
const LINE = 100;
const LINES = TOTAL / LINE;
const LIMIT = 10 * 1024 * 1024;

import { sendRequest } from "../lib/control/client.ts";
import { PROTOCOL_VERSION } from "../lib/control/protocol.ts";
import { ROOT, startDaemon } from "./daemon_launch.ts";

/** Ask `status logjob` every 20 ms until `stop()`; the latencies in ms. */
function probeStatus(socket: string): { stop: () => Promise<number[]> } {
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      try {
        await sendRequest(socket, {
          v: PROTOCOL_VERSION,
          cmd: "status",
          args: ["logjob"],
          options: {},
        }, 10_000);
        times.push(performance.now() - t);
      } catch { /* not up yet, or restarting */ }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return times;
    },
  };
}

function pct(xs: number[], p: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! * 10) / 10;
}

const libc = Deno.dlopen("libc.so.6", {
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
}).symbols;
function monotonicNs(): bigint {
  const ts = new BigInt64Array(2);
  libc.clock_gettime(1, ts);
  return ts[0]! * 1_000_000_000n + ts[1]!;
}

async function buildWriter(dir: string): Promise<string> {
  const src = `${ROOT}/../shared/bench/helpers/logwriter.c`;
  const out = `${dir}/logwriter`;
  const r = await new Deno.Command("cc", { args: ["-O2", "-o", out, src] }).output();
  if (!r.success) throw new Error(`cannot build ${src}: ${new TextDecoder().decode(r.stderr)}`);
  return out;
}

function daemon(dir: string): Deno.ChildProcess {
  const dirs = { conf: `${dir}/conf`, state: `${dir}/state`, log: `${dir}/logs` };
  return startDaemon({ ...dirs, socket: `${dir}/upkeep.sock` }, { root: UPKEEP });
}

function logFiles(dir: string): { path: string; size: number; n: number }[] {
  const out: { path: string; size: number; n: number }[] = [];
  for (const e of Deno.readDirSync(`${dir}/logs`)) {
    const m = /^logjob\.log(?:\.(\d+))?$/.exec(e.name);
    if (!m) continue;
    try {
      const size = Deno.statSync(`${dir}/logs/${e.name}`).size;
      out.push({ path: `${dir}/logs/${e.name}`, size, n: m[1] ? Number(m[1]) : 0 });
    } catch { /* rotated away meanwhile */ }
  }
  return out.sort((a, b) => b.n - a.n);
}

function stamp(dir: string, what: string): bigint | null {
  try {
    for (const line of Deno.readTextFileSync(`${dir}/logstamp`).split("\n")) {
      const p = line.split(" ");
      if (p[0] === what) return BigInt(p[1]!);
    }
  } catch { /* not yet */ }
  return null;
}

function cpuMs(pid: number): number {
  try {
    const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

function rssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Every line of every file, oldest first: valid sequence numbers, duplicates, malformed. */
function verify(dir: string, prefix: RegExp | null) {
  const seen = new Uint8Array(LINES);
  let valid = 0, dup = 0, bad = 0, markers = 0, maxRotated = 0;
  const pad = "x".repeat(LINE - 12);
  const files = logFiles(dir);
  for (const f of files) {
    if (f.n > 0) maxRotated = Math.max(maxRotated, f.size);
    const text = new TextDecoder().decode(Deno.readFileSync(f.path));
    for (let line of text.split("\n")) {
      if (!line) continue;
      if (prefix) {
        const m = prefix.exec(line);
        if (!m) {
          bad++;
          continue;
        }
        line = line.slice(m[0].length);
      }
      if (line.startsWith("upkeep: ")) {
        markers++;
        continue;
      }
      if (line.length !== LINE - 1 || line[10] !== " " || line.slice(11) !== pad) {
        bad++;
        continue;
      }
      const n = Number(line.slice(0, 10));
      if (!Number.isInteger(n) || n >= LINES) {
        bad++;
        continue;
      }
      valid++;
      if (seen[n]) dup++;
      else seen[n] = 1;
    }
  }
  let contiguous = 0;
  while (contiguous < LINES && seen[contiguous]) contiguous++;
  return {
    files: files.length,
    lines_valid: valid,
    lines_duplicate: dup,
    lines_malformed: bad,
    lines_lost: LINES - (valid - dup),
    contiguous_prefix: contiguous,
    markers,
    max_rotated_bytes: maxRotated,
    rotated_over_limit: files.filter((f) => f.n > 0 && f.size > LIMIT).length,
  };
}

async function run(scenario: string, writer: string) {
  const dir = await Deno.makeTempDir({ prefix: `logbench-${scenario}-` });
  Deno.chmodSync(dir, 0o755);
  for (const d of ["conf", "state", "logs"]) Deno.mkdirSync(`${dir}/${d}`, { mode: 0o755 });
  const stanzas = {
    plain: [],
    rotate: ["log rotate 10M 20"],
    timestamps: ["log rotate 10M 20", "log timestamps rfc3339"],
    tai64n: ["log rotate 10M 20", "log timestamps tai64n"],
    kill9: ["log rotate 10M 20"],
  }[scenario];
  if (!stanzas) throw new Error(`unknown scenario '${scenario}'`);
  const prefixLen = scenario === "timestamps" ? 25 : scenario === "tai64n" ? 26 : 0;
  const prefix = scenario === "timestamps"
    ? /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /
    : scenario === "tai64n"
    ? /^@[0-9a-f]{24} /
    : null;
  Deno.writeTextFileSync(
    `${dir}/conf/logjob.conf`,
    [
      "start on startup",
      "respawn",
      "respawn limit unlimited",
      "console log",
      ...stanzas,
      `exec ${writer} ${TOTAL} ${LINE} ${dir}/logstamp`,
      "",
    ].join("\n"),
    { mode: 0o644 },
  );
  const expected = TOTAL + LINES * prefixLen;
  let d = daemon(dir);
  const t0 = performance.now();
  let start: bigint | null = null;
  while ((start = stamp(dir, "start")) === null) {
    if (performance.now() - t0 > 30_000) throw new Error("the writer never started");
    await new Promise((r) => setTimeout(r, 5));
  }
  let killed = false, completeNs: bigint | null = null, note = "";
  const cpuBefore = cpuMs(d.pid);
  const probe = probeStatus(`${dir}/upkeep.sock`);
  for (;;) {
    const size = logFiles(dir).reduce((a, f) => a + f.size, 0);
    if (size >= expected) {
      completeNs = monotonicNs();
      break;
    }
    if (scenario === "kill9" && !killed && size >= expected * 0.3) {
      killed = true;
      d.kill("SIGKILL");
      await d.status;
      d = daemon(dir);
      note = `daemon killed at ${(size / 1e6).toFixed(1)} MB`;
    }
    if (performance.now() - t0 > 120_000) {
      note += " timeout";
      break;
    }
    if (scenario === "kill9" && killed && stamp(dir, "end") === null) {
      // The leftover writer is stopped by the new daemon: wait for the log to stop growing.
      await new Promise((r) => setTimeout(r, 1000));
      if (logFiles(dir).reduce((a, f) => a + f.size, 0) === size) break;
      continue;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const cpu = cpuMs(d.pid) - cpuBefore;
  const latencies = await probe.stop();
  const rss = rssMb(d.pid);
  await new Promise((r) => setTimeout(r, 300)); // anything extra (duplicates) lands
  const result = verify(dir, prefix);
  d.kill("SIGTERM");
  await d.status;
  const ms = completeNs !== null && start !== null ? Number(completeNs - start) / 1e6 : null;
  await Deno.remove(dir, { recursive: true });
  return {
    scenario,
    ms: ms === null ? null : Math.round(ms),
    mb_per_s: ms === null ? null : Math.round(MB / (ms / 1000)),
    daemon_cpu_ms: scenario === "kill9" ? null : cpu,
    daemon_peak_rss_mb: Math.round(rss * 10) / 10,
    status_ms: {
      n: latencies.length,
      p50: pct(latencies, 50),
      p99: pct(latencies, 99),
      max: pct(latencies, 100),
    },
    ...result,
    note,
  };
}

const tmp = await Deno.makeTempDir({ prefix: "logbench-" });
try {
  const writer = await buildWriter(tmp);
  console.log(`upkeep checkout: ${UPKEEP}; ${MB} MB of ${LINE}-byte lines; rotation at ${LIMIT}`);
  for (const s of SCENARIOS) {
    for (let i = 0; i < RUNS; i++) console.log(JSON.stringify(await run(s, writer)));
  }
} finally {
  await Deno.remove(tmp, { recursive: true });
}
