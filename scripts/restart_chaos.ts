/**
 * Chaos check of daemon restarts: a real daemon in a temp dir runs a mix of jobs (respawning
 * services, services with slow pre-start/post-start/pre-stop/post-stop scripts, `expect fork` and
 * `expect daemon` jobs made with sh, instance jobs, a task started by an event, jobs started by
 * `started X`, a crash-looping job with a respawn limit) under a workload of starts, stops,
 * restarts, emits and kill -9 of job processes; each round ends with one disruption of the daemon:
 *
 * - `kill -9` at a random moment, in the middle of a start, a stop, a restart, a respawn, a
 *   post-stop, the fork of an `expect fork`/`expect daemon` job (then a new daemon on the same
 *   state dir);
 * - `upkeep upgrade` to this same main.ts (through a launcher script), `initctl reexec`, and an
 *   upgrade cut short by `kill -9`;
 * - SIGTERM (a clean stop: every job stopped, post-stop run; then a fresh daemon), and a SIGTERM
 *   cut short by `kill -9`;
 * - a journal torn mid-line, a state file that cannot be read, or an instance record garbled
 *   into JSON of another shape, before the next start (the daemon must start and say what it
 *   could not restore).
 *
 * After each, once things settle, the invariants: every job whose goal is start has exactly one
 * live main process, the one status reports; no job's main runs twice (processes counted by an
 * argv unique to each job; also checked after every workload step); no process of a stopped job
 * survives; no job process outside any job (processes carrying the daemon's socket in their
 * environment, neither listed by status nor a descendant of one); `initctl list` agrees with
 * /proc; the goals asked for (more than a moment before a kill) are kept, instances included; the
 * crash-looping job gives up within its respawn limit (one lost count allowed per kill -9) and
 * does not come back by itself.
 *
 *   deno run -A scripts/restart_chaos.ts [--rounds 20] [--seed N] [--only KIND,...] [--keep]
 *
 * Exit status 1 when an invariant broke (each is printed with the round's seed and disruption).
 */

import { PROTOCOL_VERSION } from "../lib/control/protocol.ts";
import { daemonAnswers, sendRequest } from "../lib/control/client.ts";
import { pathHash } from "../lib/log/fifo_dir.ts";
import { daemonArgs, type DaemonDirs, ROOT } from "./daemon_launch.ts";

// ------------------------------------------------------------------ options

const args = Deno.args;
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const ROUNDS = Number(opt("rounds") ?? 20);
const SEED = Number(opt("seed") ?? Math.floor(Math.random() * 2 ** 31));
const ONLY = opt("only")?.split(",") ?? null;
const KEEP = args.includes("--keep");
const VERBOSE = args.includes("--verbose");

let rngState = SEED >>> 0;
/** mulberry32: the same seed replays the same choices (timings still vary). */
function rnd(): number {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
const between = (a: number, b: number) => a + rnd() * (b - a);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ the jobs

const dir = await Deno.makeTempDir({ prefix: "upkeep-chaos-" });
Deno.chmodSync(dir, 0o755);
const conf = `${dir}/conf`;
Deno.mkdirSync(conf, { mode: 0o755 });
const dirs: DaemonDirs = {
  conf,
  state: `${dir}/state`,
  log: `${dir}/log`,
  socket: `${dir}/state/upkeep.sock`,
};
const daemonLog = `${dir}/daemon.stderr`;
/** Sleep lengths unique to this run: `sleep 7<TOKEN><NN>` is job NN's main process. */
const TOKEN = String(Deno.pid % 100000).padStart(5, "0");
const sleepArg = (nn: string) => `7${TOKEN}${nn}`;
const POST_STOP_LOG = `${dir}/poststop.log`;
const CRASHY_RUNS = `${dir}/crashy.runs`;
const TASK_LOG = `${dir}/task.log`;
const CRASHY_LIMIT = 4, CRASHY_WINDOW = 10;
const WORKERS = ["1", "2", "3"];

interface JobSpec {
  readonly text: string;
  /** Is this command line the job's main process (one instance's, for instance jobs)? */
  readonly isMain?: (cmdline: string, instance: string) => boolean;
  /** Goal kept in the model (what the workload asked for). */
  readonly modeled: boolean;
  readonly instances?: readonly string[];
}

const exactly = (nn: (instance: string) => string) => (cmd: string, instance: string) =>
  cmd === `sleep ${sleepArg(nn(instance))}`;

const JOBS: Record<string, JobSpec> = {
  svc1: {
    text: `start on startup\nrespawn\nexec sleep ${sleepArg("01")}\n`,
    isMain: exactly(() => "01"),
    modeled: true,
  },
  svc2: {
    text: `start on startup\nrespawn\nexec sleep ${sleepArg("02")}\n`,
    isMain: exactly(() => "02"),
    modeled: true,
  },
  svc3: {
    text: `start on startup\nrespawn\nkill timeout 2\n` +
      `exec sh -c 'trap "" TERM; sleep ${sleepArg("03")} & wait'\n`,
    // A main that ignores TERM (its child does not): killed after the kill timeout.
    isMain: (cmd) => cmd === `sh -c trap "" TERM; sleep ${sleepArg("03")} & wait`,
    modeled: true,
  },
  hooks: {
    text: `respawn
pre-start exec sleep 0.3
post-start script
  sleep 0.3
end script
pre-stop exec sleep 0.2
post-stop script
  sleep 0.3
  echo "hooks $(date +%s%3N)" >>${POST_STOP_LOG}
end script
exec sleep ${sleepArg("10")}
`,
    isMain: exactly(() => "10"),
    modeled: true,
  },
  forker: {
    text: `expect fork\nrespawn\nexec sh -c 'sleep ${sleepArg("20")} &'\n`,
    isMain: exactly(() => "20"),
    modeled: true,
  },
  daemonish: {
    text: `expect daemon\nrespawn\n` +
      `exec sh -c '(sleep ${sleepArg("30")} </dev/null >/dev/null 2>&1 &) ; exit 0'\n`,
    isMain: exactly(() => "30"),
    modeled: true,
  },
  worker: {
    text: `instance $N\nrespawn
pre-start exec sleep 0.1
post-stop exec sh -c 'echo "worker $N $(date +%s%3N)" >>${POST_STOP_LOG}'
exec sleep ${sleepArg("4")}$N
`,
    isMain: (cmd, instance) => cmd === `sleep ${sleepArg("4")}${instance}`,
    modeled: true,
    instances: WORKERS,
  },
  follower: {
    text: `start on started svc1\nstop on stopping svc1\nrespawn\nexec sleep ${sleepArg("50")}\n`,
    isMain: exactly(() => "50"),
    modeled: false,
  },
  chained: {
    text: `start on started hooks\nexec sleep ${sleepArg("51")}\n`,
    isMain: exactly(() => "51"),
    modeled: false,
  },
  task: {
    text: `start on chaos-go\ntask\nexec sh -c 'sleep 0.4; echo x >>${TASK_LOG}'\n`,
    isMain: (cmd) => cmd.includes(TASK_LOG),
    modeled: false,
  },
  crashy: {
    text: `respawn\nrespawn limit ${CRASHY_LIMIT} ${CRASHY_WINDOW}
script
  echo "$$ $(date +%s%3N)" >>${CRASHY_RUNS}
  sleep 0.3
  exit 1
end script
`,
    isMain: (cmd) => cmd.includes(CRASHY_RUNS),
    modeled: false,
  },
};

for (const [name, spec] of Object.entries(JOBS)) {
  Deno.writeTextFileSync(`${conf}/${name}.conf`, spec.text, { mode: 0o644 });
}

/** Model keys: `job` or `job (instance)`. */
const keyOf = (job: string, instance: string) => instance ? `${job} (${instance})` : job;
const MODELED: { key: string; job: string; instance: string }[] = [];
for (const [job, spec] of Object.entries(JOBS)) {
  if (!spec.modeled) continue;
  for (const instance of spec.instances ?? [""]) {
    MODELED.push({ key: keyOf(job, instance), job, instance });
  }
}

// ------------------------------------------------------------------ the daemon

const launcher = `${dir}/upkeep-launcher`;
Deno.writeTextFileSync(
  launcher,
  `#!/bin/sh\nexec ${Deno.execPath()} run -A --quiet ${ROOT}/main.ts "$@"\n`,
);
Deno.chmodSync(launcher, 0o755);

let daemon: Deno.ChildProcess | null = null;

/** Start a daemon on the dirs, its stderr appended to daemon.stderr; wait until it answers. */
async function startDaemon(): Promise<boolean> {
  const argv = [launcher, ...daemonArgs(dirs), "--debug"].map((a) => `'${a}'`).join(" ");
  Deno.writeTextFileSync(daemonLog, `==== daemon start ${new Date().toISOString()}\n`, {
    append: true,
  });
  daemon = new Deno.Command("/bin/sh", {
    args: ["-c", `exec ${argv} 2>>'${daemonLog}' >/dev/null`],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  return await daemonAnswers(dirs.socket, 30_000);
}

async function killDaemon(signal: Deno.Signal = "SIGKILL"): Promise<Deno.CommandStatus | null> {
  const d = daemon;
  if (!d) return null;
  try {
    d.kill(signal);
  } catch { /* gone */ }
  const timer = setTimeout(() => {
    try {
      d.kill("SIGKILL");
    } catch { /* gone */ }
  }, 60_000);
  const status = await d.status;
  clearTimeout(timer);
  daemon = null;
  return status;
}

/** Daemon log text written since `from` (a byte offset). */
function daemonLogSince(from: number): string {
  try {
    return Deno.readTextFileSync(daemonLog).slice(from);
  } catch {
    return "";
  }
}
const daemonLogSize = () => {
  try {
    return Deno.statSync(daemonLog).size;
  } catch {
    return 0;
  }
};

// ------------------------------------------------------------------ control

async function ask(
  cmd: string,
  cmdArgs: string[] = [],
  noWait = false,
  timeoutMs = 20_000,
  json = false,
) {
  const options = { ...(noWait ? { noWait: true } : {}), ...(json ? { json: true } : {}) };
  const r = await sendRequest(
    dirs.socket,
    { v: PROTOCOL_VERSION, cmd, args: cmdArgs, options },
    timeoutMs,
  );
  return r.ok ? { ok: true, out: r.out } : { ok: false, out: r.error };
}

interface Listed {
  name: string;
  instance: string;
  goal: string;
  state: string;
  pid: number | null;
  processes: Record<string, number>;
  respawns: number;
  failure?: { message: string } | null;
}

async function listJson(): Promise<Listed[]> {
  const r = await ask("list", [], false, 10_000, true).catch(() => null);
  if (!r?.ok) throw new Error(`list failed: ${r?.out ?? "no answer"}`);
  const raw = JSON.parse(r.out) as Record<string, unknown>[];
  return raw.map((o) => ({
    ...(o as unknown as Listed),
    failure: (o.failure as { message: string } | null | undefined) ?? null,
  }));
}

/** `initctl list` through the real CLI, as text. */
async function cliList(): Promise<string> {
  const out = await new Deno.Command(launcher, {
    args: ["initctl", "--socket", dirs.socket, "list"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout);
}

// ------------------------------------------------------------------ /proc

interface Proc {
  pid: number;
  ppid: number;
  state: string;
  cmdline: string;
  /** Carries this daemon's socket in its environment: a job process (or a child of one). */
  job: string | null;
  instance: string;
}

function scanProcs(): Map<number, Proc> {
  const out = new Map<number, Proc>();
  const marker = `UPKEEP_SOCKET=${dirs.socket}`;
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const pid = Number(e.name);
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const state = f[0]!;
      if (state === "Z" || state === "X") continue;
      const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").slice(0, -1)
        .join(" ");
      let job: string | null = null, instance = "";
      if (pid !== Deno.pid) {
        const env = Deno.readTextFileSync(`/proc/${pid}/environ`).split("\0");
        if (env.includes(marker)) {
          job = env.find((v) => v.startsWith("UPSTART_JOB="))?.slice(12) ?? "?";
          instance = env.find((v) => v.startsWith("UPSTART_INSTANCE="))?.slice(17) ?? "";
        }
      }
      out.set(pid, { pid, ppid: Number(f[1]), state, cmdline, job, instance });
    } catch { /* gone */ }
  }
  return out;
}

/** Main processes of each job instance (by its unique argv) in a scan. */
function mainsByKey(procs: Map<number, Proc>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const p of procs.values()) {
    // A shell's fork that has not exec'd yet (`$(date)`, a command) has its parent's argv.
    if (procs.get(p.ppid)?.cmdline === p.cmdline) continue;
    for (const [job, spec] of Object.entries(JOBS)) {
      if (!spec.isMain) continue;
      for (const instance of spec.instances ?? [""]) {
        if (!spec.isMain(p.cmdline, instance)) continue;
        // A task's or the crash loop's command line names the job, not the instance.
        const key = keyOf(job, instance);
        out.set(key, [...out.get(key) ?? [], p.pid]);
      }
    }
  }
  return out;
}

/** Processes of ours that are alive: every job's main, hooks, their children. */
function ourProcesses(): number[] {
  const out: number[] = [];
  for (const p of scanProcs().values()) {
    if (p.job !== null || p.cmdline.includes(dir) || p.cmdline.includes(`7${TOKEN}`)) {
      if (p.pid !== daemon?.pid) out.push(p.pid);
    }
  }
  return out;
}

// ------------------------------------------------------------------ model and findings

type Want = "start" | "stop" | "unknown";
const want = new Map<string, Want>();
/** When the last command on each key was sent (ms), to know which a kill may have lost. */
const touched = new Map<string, number>();
/** Commands sent and not answered (a kill may lose them). */
let inFlight = new Set<string>();

function resetModel(fresh: boolean): void {
  for (const m of MODELED) want.set(m.key, fresh && m.job.startsWith("svc") ? "start" : "stop");
}

interface Finding {
  round: number;
  disruption: string;
  what: string;
}
const findings: Finding[] = [];
let round = 0;
let disruption = "start";

/**
 * In a round whose state was damaged on purpose: is this finding what the damage explains (a
 * process whose record was lost runs on unknown)? Such findings are listed apart.
 */
let explainedByDamage: ((what: string) => boolean) | null = null;
const explained: Finding[] = [];

function violation(what: string, always = false): void {
  if (!always && explainedByDamage?.(what)) {
    explained.push({ round, disruption, what });
    console.log(`  (round ${round}, ${disruption}, the state damaged: ${what})`);
    return;
  }
  findings.push({ round, disruption, what });
  console.log(`  !! round ${round} (${disruption}): ${what}`);
}

/** Kill processes a finding is about, so that later rounds start sane and say it only once. */
function remove(pids: number[]): void {
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
}

/** The crash loop: started by us at `from` runs (lines in CRASHY_RUNS), daemon kills since. */
let crashyEpisode: { fromRuns: number; kills: number; at: number } | null = null;
/** Runs when it last gave up (it must not come back by itself). */
let crashyIdleRuns: number | null = null;
const crashyRuns = () => {
  try {
    return Deno.readTextFileSync(CRASHY_RUNS).split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
};

// ------------------------------------------------------------------ workload

/** Send a goal command; the model follows once it is answered. */
async function command(
  cmd: "start" | "stop" | "restart",
  job: string,
  instance: string,
  noWait: boolean,
): Promise<void> {
  const key = keyOf(job, instance);
  const cmdArgs = instance ? [job, `N=${instance}`] : [job];
  touched.set(key, performance.now());
  inFlight.add(key);
  const flight = inFlight;
  try {
    const r = await ask(cmd, cmdArgs, noWait, 30_000);
    flight.delete(key);
    touched.set(key, performance.now());
    if (JOBS[job]?.modeled) {
      if (r.ok || /already/.test(r.out)) want.set(key, cmd === "stop" ? "stop" : "start");
      else if (/Unknown instance/.test(r.out) && cmd === "stop") want.set(key, "stop");
      else if (/failed/.test(r.out)) want.set(key, "unknown");
    }
    if (job === "crashy" && cmd === "start" && r.ok) {
      crashyIdleRuns = null;
    }
    if (VERBOSE) console.log(`    ${cmd} ${key}: ${r.ok ? "ok" : r.out}`);
  } catch (e) {
    // The daemon died under it (or did not answer): what became of it is unknown.
    if (JOBS[job]?.modeled) want.set(key, "unknown");
    if (VERBOSE) console.log(`    ${cmd} ${key}: ${e instanceof Error ? e.message : e}`);
  }
}

function fire(p: Promise<unknown>): void {
  p.catch(() => {});
}

async function killJobMain(filter?: (l: Listed) => boolean): Promise<string | null> {
  const running = (await listJson()).filter((l) =>
    l.pid !== null && l.state === "running" && (filter?.(l) ?? true)
  );
  if (!running.length) return null;
  const l = pick(running);
  try {
    Deno.kill(l.pid!, "SIGKILL");
  } catch { /* gone */ }
  return keyOf(l.name, l.instance);
}

async function startCrashy(): Promise<void> {
  const l = (await listJson()).find((x) => x.name === "crashy");
  if (l && l.goal === "start") return;
  const runs = crashyRuns();
  crashyEpisode = { fromRuns: runs, kills: 0, at: performance.now() };
  crashyIdleRuns = null;
  if (VERBOSE) console.log(`    crashy episode from run ${runs} (${l?.goal}/${l?.state})`);
  await command("start", "crashy", "", true);
}

/** One random step of the workload. */
async function workloadStep(): Promise<void> {
  const r = rnd();
  const m = pick(MODELED);
  const noWait = rnd() < 0.6;
  if (r < 0.25) await command("start", m.job, m.instance, noWait);
  else if (r < 0.42) await command("stop", m.job, m.instance, noWait);
  else if (r < 0.52) {
    if (want.get(m.key) === "start") await command("restart", m.job, m.instance, noWait);
  } else if (r < 0.62) await ask("emit", ["chaos-go"], true).catch(() => {});
  else if (r < 0.78) await killJobMain();
  else if (r < 0.84) await startCrashy();
  else if (r < 0.88) daemon?.kill("SIGHUP");
  else await sleep(between(50, 400));
}

/** After every workload step: no job's main process runs twice, ever. */
async function checkTwice(when: string): Promise<void> {
  for (const [key, pids] of mainsByKey(scanProcs())) {
    if (pids.length > 1) {
      // A moment later, to tell a real duplicate from a process being replaced right now.
      const again = mainsByKey(scanProcs()).get(key) ?? [];
      const both = pids.filter((p) => again.includes(p));
      if (both.length > 1) {
        violation(
          `${key}: main process runs ${both.length} times (${both.join(", ")}) ${when}` +
            (both.map(atKill).find((x) => x !== "") ?? ""),
        );
        // Back to a sane start for the next rounds: the ones status does not name go.
        const listed = (await listJson().catch(() => [])).find((l) =>
          keyOf(l.name, l.instance) === key
        )?.pid;
        for (const pid of both) {
          if (pid === listed) continue;
          try {
            Deno.kill(pid, "SIGKILL");
          } catch { /* gone */ }
        }
      }
    }
  }
}

// ------------------------------------------------------------------ settle and check

/** Wait until every instance (the crash loop aside) is at rest; the last list, or null. */
async function settle(timeoutMs = 40_000): Promise<Listed[] | null> {
  const deadline = performance.now() + timeoutMs;
  let last = "", same = 0, list: Listed[] = [];
  while (performance.now() < deadline) {
    try {
      list = await listJson();
    } catch {
      await sleep(250);
      continue;
    }
    const moving = list.filter((l) =>
      l.name !== "crashy" &&
      !(l.goal === "stop" && l.state === "waiting") &&
      !(l.goal === "start" && l.state === "running" && l.name !== "task")
    );
    const sig = JSON.stringify(list.filter((l) => l.name !== "crashy"));
    if (moving.length === 0 && sig === last) same++;
    else same = 0;
    last = sig;
    if (same >= 3) return list;
    await sleep(250);
  }
  const stuck = list.filter((l) =>
    l.name !== "crashy" && !(l.goal === "stop" && l.state === "waiting") &&
    !(l.goal === "start" && l.state === "running")
  );
  violation(
    `did not settle within ${timeoutMs / 1000} s: ${
      stuck.map((l) => `${keyOf(l.name, l.instance)} ${l.goal}/${l.state}`).join("; ") ||
      "(instances keep changing)"
    }`,
  );
  return null;
}

/** Every invariant, on a settled daemon. `sinceKill`: keys a kill may have caught mid-command. */
async function checkInvariants(uncertain: ReadonlySet<string>): Promise<void> {
  const list1 = await listJson();
  const procs = scanProcs();
  const list2 = await listJson();
  const text = await cliList();
  const listed = new Set<number>();
  for (const l of [...list1, ...list2]) {
    for (const pid of Object.values(l.processes)) listed.add(pid);
  }
  const mains = mainsByKey(procs);
  const byKey = new Map(list2.map((l) => [keyOf(l.name, l.instance), l]));

  // initctl list (the CLI's text) agrees with /proc: every pid it names is alive.
  for (const line of text.split("\n")) {
    if (line.startsWith("crashy ")) continue; // it moves on meanwhile
    const pids = [...line.matchAll(/process (\d+)/g)].map((m) => Number(m[1]));
    for (const pid of pids) {
      if (!procs.has(pid) && !isAlive(pid)) {
        violation(`initctl list names dead pid ${pid}: ${line}`);
      }
    }
  }

  for (const l of list2) {
    const key = keyOf(l.name, l.instance);
    const spec = JOBS[l.name];
    // (The crash loop moves on between the list and this look.)
    if (l.name === "crashy" || !spec?.isMain) continue;
    for (const [kind, pid] of Object.entries(l.processes)) {
      if (!isAlive(pid)) violation(`${key}: status shows ${kind} process ${pid}, not in /proc`);
    }
    const live = mains.get(key) ?? [];
    if (l.goal === "start" && l.state === "running") {
      if (l.pid === null) violation(`${key}: start/running without a main process`);
      else if (!live.includes(l.pid)) {
        violation(
          `${key}: status main ${l.pid} is not the job's process (it is: ${cmdlineOf(l.pid)}; ` +
            `live: ${live})`,
        );
      }
      if (live.length !== 1) violation(`${key}: ${live.length} main processes (${live})`);
    }
  }
  // No process of a job that is not running.
  for (const [key, pids] of mains) {
    const l = byKey.get(key);
    if (key === "crashy" || key === "task") continue;
    if (!l || l.goal === "stop") {
      violation(
        `${key} is ${l ? `${l.goal}/${l.state}` : "not listed"} but its main runs: ${pids}`,
      );
      remove(pids);
    }
  }
  // No job process outside every job: listed, or a descendant of a listed process.
  for (const p of procs.values()) {
    if (p.job === null || p.pid === daemon?.pid) continue;
    let q: Proc | undefined = p, ok = false;
    for (let hops = 0; q && hops < 20; hops++) {
      if (listed.has(q.pid)) {
        ok = true;
        break;
      }
      q = procs.get(q.ppid);
    }
    if (!ok && isAlive(p.pid)) {
      violation(
        `orphan: ${p.pid} (${p.cmdline}) of ${keyOf(p.job, p.instance)}, ` +
          `ppid ${p.ppid}, outside every job${atKill(p.pid)}`,
      );
      remove([p.pid]);
    }
  }
  // The goals asked for are kept (those a kill may have caught mid-command aside).
  for (const m of MODELED) {
    const l = byKey.get(m.key);
    const goal = l ? l.goal : "stop";
    const w = want.get(m.key);
    if (w === "unknown" || uncertain.has(m.key)) {
      want.set(m.key, goal === "start" ? "start" : "stop");
      continue;
    }
    if (w !== goal && !(w === "start" && l?.failure)) {
      violation(`${m.key}: goal ${goal} (${l ? l.state : "no instance"}), asked for ${w}`);
      want.set(m.key, goal === "start" ? "start" : "stop");
    }
  }
  // The crash loop: within its respawn limit, and not back by itself once it gave up.
  const c = byKey.get("crashy");
  const runs = crashyRuns();
  if (VERBOSE) {
    console.log(
      `    crashy ${c ? `${c.goal}/${c.state}` : "-"}, runs ${runs}, episode ` +
        JSON.stringify(crashyEpisode),
    );
  }
  if (!c || c.goal === "stop") {
    if (crashyEpisode) {
      const n = runs - crashyEpisode.fromRuns;
      const max = CRASHY_LIMIT + 1 + crashyEpisode.kills;
      if (n > max) {
        violation(
          `crashy ran ${n} times before giving up (limit ${CRASHY_LIMIT} respawns, ` +
            `${crashyEpisode.kills} daemon kills meanwhile: at most ${max})`,
        );
      }
      if (c && c.failure && !/respawning too fast/.test(c.failure.message)) {
        violation(`crashy stopped with failure '${c.failure.message}'`);
      }
      crashyEpisode = null;
      crashyIdleRuns = runs;
    } else if (crashyIdleRuns !== null && runs > crashyIdleRuns + 0) {
      violation(`crashy ran ${runs - crashyIdleRuns} times after giving up, unasked`);
      crashyIdleRuns = runs;
    } else crashyIdleRuns ??= runs;
  } else if (crashyEpisode === null) {
    violation(`crashy is ${c.goal}/${c.state} though nothing started it (runs ${runs})`);
    crashyEpisode = { fromRuns: runs, kills: 0, at: performance.now() };
  }
}

function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const s = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return s !== "Z" && s !== "X";
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------ disruptions

/** Keys a kill may have caught mid-command: in flight, or answered less than 300 ms before. */
function uncertainKeys(): Set<string> {
  const now = performance.now();
  const out = new Set<string>(inFlight);
  for (const [key, at] of touched) if (now - at < 300) out.add(key);
  inFlight = new Set();
  return out;
}

async function waitState(key: string, re: RegExp, timeoutMs = 5000): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const l = (await listJson().catch(() => [])).find((x) => keyOf(x.name, x.instance) === key);
    if (l && re.test(`${l.goal}/${l.state}`)) return true;
    await sleep(10);
  }
  return false;
}

type Disruption = () => Promise<{ restart: "kill" | "none" | "fresh"; uncertain: Set<string> }>;

/** /proc/uptime in clock ticks (the unit of a process's start time in /proc/PID/stat). */
function uptimeTicks(): number {
  return Math.floor(Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0]) * 100);
}

/** When the daemon was last killed (ticks), to tell processes spawned at that very moment. */
let lastKillTick = -Infinity;

/**
 * ` (spawned as the daemon was killed: the documented spawn window)` when `pid` started within
 * 20 ms before the last kill -9 (a spawn that was under way: docs/restart.md, What is lost).
 */
function atKill(pid: number): string {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const start = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    return start <= lastKillTick && start >= lastKillTick - 2
      ? " (spawned as the daemon was killed: the spawn window of docs/restart.md)"
      : "";
  } catch {
    return "";
  }
}

const kill9 = async () => {
  const uncertain = uncertainKeys();
  lastKillTick = uptimeTicks();
  await killDaemon("SIGKILL");
  if (crashyEpisode) crashyEpisode.kills++;
  return { restart: "kill" as const, uncertain };
};

const DISRUPTIONS: Record<string, Disruption> = {
  "kill": async () => {
    await sleep(between(0, 300));
    return await kill9();
  },
  "kill-mid-start": async () => {
    const m = pick(MODELED.filter((x) => want.get(x.key) !== "start"));
    if (m) fire(command("start", m.job, m.instance, rnd() < 0.5));
    // hooks: pre-start 0.3 s, main, post-start 0.3 s.
    await sleep(between(0, m?.job === "hooks" ? 800 : 60));
    return await kill9();
  },
  "kill-mid-stop": async () => {
    const m = pick(MODELED.filter((x) => want.get(x.key) === "start"));
    if (m) fire(command("stop", m.job, m.instance, rnd() < 0.5));
    await sleep(between(0, m?.job === "hooks" ? 900 : m?.job === "svc3" ? 2500 : 60));
    return await kill9();
  },
  "kill-mid-restart": async () => {
    const m = pick(MODELED.filter((x) => want.get(x.key) === "start"));
    if (m) fire(command("restart", m.job, m.instance, rnd() < 0.5));
    await sleep(between(0, m?.job === "hooks" ? 1500 : m?.job === "svc3" ? 2500 : 80));
    return await kill9();
  },
  "kill-mid-respawn": async () => {
    const key = await killJobMain((l) => l.name !== "crashy");
    await sleep(between(0, key?.startsWith("hooks") ? 1200 : 40));
    return await kill9();
  },
  "kill-mid-post-stop": async () => {
    if (want.get("hooks") !== "start") {
      await command("start", "hooks", "", false);
    }
    fire(command(rnd() < 0.5 ? "stop" : "restart", "hooks", "", true));
    await waitState("hooks", /\/post-stop$/);
    await sleep(between(0, 250));
    return await kill9();
  },
  "kill-mid-expect": async () => {
    const job = pick(["forker", "daemonish"]);
    if (want.get(job) === "start") await command("stop", job, "", false);
    fire(command("start", job, "", true));
    if (rnd() < 0.5) await sleep(between(0, 40));
    else {
      // Right while its forks are followed (start/spawned), when that is seen in time.
      const deadline = performance.now() + 300;
      while (performance.now() < deadline) {
        const r = await ask("status", [job], false, 2000).catch(() => null);
        if (r?.ok && /\/spawned/.test(r.out)) break;
      }
    }
    return await kill9();
  },
  "kill-mid-crash-loop": async () => {
    await startCrashy();
    await sleep(between(0, 1500));
    return await kill9();
  },
  "upgrade": async () => {
    const before = await mainPids();
    const pid = daemon?.pid;
    const out = await new Deno.Command(launcher, {
      args: ["upgrade", "--socket", dirs.socket, launcher],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    if (!out.success) {
      const err = dec.decode(out.stderr).trim();
      // Refused while it follows a fork or holds spawns back: allowed (it says so).
      if (!/busy/.test(err)) violation(`upkeep upgrade failed: ${err}`);
    }
    if (daemon?.pid !== pid) violation("the daemon's pid changed in an upgrade");
    await compareKept(before, "upgrade");
    return { restart: "none" as const, uncertain: uncertainKeys() };
  },
  "reexec": async () => {
    const before = await mainPids();
    const r = await ask("reexec", [], false, 15_000).catch((e) => ({ ok: false, out: `${e}` }));
    if (!r.ok && !/busy/.test(r.out)) violation(`initctl reexec failed: ${r.out}`);
    if (!(await daemonAnswers(dirs.socket, 30_000))) violation("no answer after reexec");
    await compareKept(before, "reexec");
    return { restart: "none" as const, uncertain: uncertainKeys() };
  },
  "kill-mid-upgrade": async () => {
    // The new program dies on its way up (or the old one just before the exec), a crash loop
    // under way or not.
    if (rnd() < 0.5) await startCrashy();
    const upgrade = new Deno.Command(launcher, {
      args: ["upgrade", "--socket", dirs.socket, launcher],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    await sleep(between(0, 700));
    const r = await kill9();
    try {
      upgrade.kill("SIGKILL"); // it would wait 30 s for an answer
    } catch { /* done */ }
    await upgrade.status;
    return r;
  },
  "sigterm": async () => {
    const list = await listJson();
    const postStopsBefore = postStopLines();
    const expectPostStop =
      list.filter((l) => (l.name === "hooks" || l.name === "worker") && l.goal === "start").length;
    const status = await killDaemon("SIGTERM");
    if (status && status.code !== 0) violation(`SIGTERM: daemon exited ${status.code}`);
    await sleep(300);
    const left = ourProcesses();
    if (left.length) {
      violation(
        `SIGTERM: processes left after a clean stop: ${
          left.map((p) => `${p} (${cmdlineOf(p)})`).join("; ")
        }`,
      );
      for (const p of left) {
        try {
          Deno.kill(p, "SIGKILL");
        } catch { /* gone */ }
      }
    }
    const ran = postStopLines() - postStopsBefore;
    if (ran < expectPostStop) {
      violation(
        `SIGTERM: ${expectPostStop} instances with post-stop running, ${ran} post-stops ran`,
      );
    }
    crashyEpisode = null;
    crashyIdleRuns = null;
    inFlight = new Set();
    return { restart: "fresh" as const, uncertain: new Set<string>() };
  },
  "kill-mid-shutdown": async () => {
    // A clean stop cut short: whatever it stopped stays stopped, the rest is taken over.
    daemon?.kill("SIGTERM");
    await sleep(between(0, 900));
    const r = await kill9();
    for (const m of MODELED) r.uncertain.add(m.key);
    return r;
  },
  "torn-journal": async () => {
    await sleep(between(0, 300));
    const r = await kill9();
    const journal = `${dirs.state}/state/journal`;
    try {
      const bytes = Deno.readFileSync(journal);
      const text = new TextDecoder().decode(bytes);
      const lastNl = text.lastIndexOf("\n", text.length - 2);
      // Cut in the middle of the last line (a write torn by the kill).
      const cut = lastNl < 0 ? Math.floor(bytes.length / 2) : lastNl + 1 +
        Math.floor((bytes.length - lastNl - 1) / 2);
      Deno.truncateSync(journal, cut);
      tornAt = cut;
      // What the lost line was about (a process, an instance record, a class): that job only.
      const job = /"k":"([^"\\]*)/.exec(text.slice(lastNl + 1))?.[1] ?? "";
      tornJob = job;
      explainedByDamage = (what) => job !== "" && new RegExp(`\\b${job}\\b`).test(what);
    } catch { /* no journal */ }
    for (const m of MODELED) r.uncertain.add(m.key);
    return r;
  },
  "garbled-record": async () => {
    // One instance record, wherever it is, garbled into JSON of another shape.
    await sleep(between(0, 300));
    const r = await kill9();
    const state = `${dirs.state}/state`;
    const garbles: ((rec: Record<string, Record<string, unknown>>) => void)[] = [
      (rec) => rec.st!.pids = null,
      (rec) => rec.st!.state = "flying",
      (rec) => rec.procs = { main: { pid: "x", start: 1 } },
      (rec) => rec.job!.startOn = 5,
      (rec) => delete rec.job!.killTimeout,
    ];
    const garble = pick(garbles);
    let job = "";
    const keys = new Set<string>();
    const hit = (key: string, rec: unknown) => {
      if (!rec || (job && !key.startsWith(`${job}\u0000`))) return false;
      job ||= key.split("\u0000")[0]!;
      keys.add(key);
      garble(rec as Record<string, Record<string, unknown>>);
      return true;
    };
    /** A garbled record still in effect: not superseded by the instance's end (a null record). */
    let damaged = false;
    try {
      const lines = Deno.readTextFileSync(`${state}/journal`).split("\n");
      const out = lines.map((line) => {
        try {
          const e = JSON.parse(line);
          if (e.t === "i" && (job || rnd() < 0.3) && hit(e.k, e.r)) return JSON.stringify(e);
        } catch { /* torn */ }
        return line;
      });
      const snap = JSON.parse(Deno.readTextFileSync(`${state}/snapshot.json`));
      for (const [k, rec] of Object.entries(snap.instances ?? {})) {
        if (job ? k.startsWith(`${job}\u0000`) : rnd() < 0.5) hit(k, rec);
      }
      // The journal again, now that the job is known (its lines before the one picked too).
      const out2 = out.map((line) => {
        try {
          const e = JSON.parse(line);
          if (e.t === "i" && job && e.k.startsWith(`${job}\u0000`) && hit(e.k, e.r)) {
            return JSON.stringify(e);
          }
        } catch { /* torn */ }
        return line;
      });
      Deno.writeTextFileSync(`${state}/journal`, out2.join("\n"));
      Deno.writeTextFileSync(`${state}/snapshot.json`, JSON.stringify(snap));
      for (const key of keys) {
        // As the daemon reads them: the snapshot, then the journal's lines after it.
        let alive = key in (snap.instances ?? {});
        for (const line of out2) {
          try {
            const e = JSON.parse(line);
            if (e.seq > (snap.seq ?? 0) && e.t === "i" && e.k === key) {
              alive = e.r !== null && e.r !== undefined;
            }
          } catch { /* torn */ }
        }
        damaged ||= alive;
      }
    } catch { /* nothing to garble */ }
    unreadable = `garbled record of ${job || "none"}`;
    explainedByDamage = (what) => job !== "" && new RegExp(`\\b${job}\\b`).test(what);
    // Only records still in effect are damage the daemon must name: one the instance's end
    // superseded in the journal is never read.
    if (!job || !damaged) unreadable = null;
    for (const m of MODELED) if (m.job === job) r.uncertain.add(m.key);
    return r;
  },
  "unreadable-state": async () => {
    await sleep(between(0, 300));
    const r = await kill9();
    const which = pick(["snapshot-garbage", "snapshot-dir", "journal-dir", "journal-garbage"]);
    const state = `${dirs.state}/state`;
    const path = which.startsWith("snapshot") ? `${state}/snapshot.json` : `${state}/journal`;
    try {
      Deno.removeSync(path);
    } catch { /* none */ }
    if (which.endsWith("-dir")) Deno.mkdirSync(path);
    else Deno.writeFileSync(path, new Uint8Array([0xff, 0xfe, 0x00, 0x7b, 0x22, 0x0a, 0xc3]));
    unreadable = which;
    unreadablePath = path;
    explainedByDamage = () => true; // what was in it is lost: anything may follow
    for (const m of MODELED) r.uncertain.add(m.key);
    return r;
  },
};
let tornAt: number | null = null;
let tornJob = "";
let unreadable: string | null = null;
/** What was made unreadable: put right after the round (the daemon cannot mend a directory). */
let unreadablePath: string | null = null;

function postStopLines(): number {
  try {
    return Deno.readTextFileSync(POST_STOP_LOG).split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
}

function cmdlineOf(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").join(" ").trim();
  } catch {
    return "?";
  }
}

async function mainPids(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const l of await listJson()) {
    if (l.pid !== null && l.state === "running" && l.name !== "crashy" && l.name !== "task") {
      out.set(keyOf(l.name, l.instance), l.pid);
    }
  }
  return out;
}

/** After an upgrade or re-exec: every main process that ran before runs on, the same pid. */
async function compareKept(before: Map<string, number>, what: string): Promise<void> {
  const after = await mainPids();
  for (const [key, pid] of before) {
    if (after.get(key) !== pid && isAlive(pid) && JOBS[key.split(" ")[0]!]?.isMain) {
      violation(`${what}: ${key} main was ${pid}, now ${after.get(key) ?? "none"}`);
    }
  }
}

// ------------------------------------------------------------------ the run

const cleanupAll = async () => {
  await killDaemon("SIGTERM").catch(() => {});
  for (let i = 0; i < 3; i++) {
    for (const p of ourProcesses()) {
      try {
        Deno.kill(p, "SIGKILL");
      } catch { /* gone */ }
    }
    await sleep(100);
  }
  try {
    const suffix = `-${pathHash(Deno.realPathSync(dirs.state))}`;
    for (const e of Deno.readDirSync("/dev/shm")) {
      if (e.name.startsWith("upkeep-") && e.name.endsWith(suffix)) {
        Deno.removeSync(`/dev/shm/${e.name}`, { recursive: true });
      }
    }
  } catch { /* none */ }
  if (!KEEP) await Deno.remove(dir, { recursive: true }).catch(() => {});
};
let interrupted = false;
Deno.addSignalListener("SIGINT", () => {
  interrupted = true;
});

console.log(`restart chaos: seed ${SEED}, ${ROUNDS} rounds, dir ${dir}`);
const kinds = ONLY ?? Object.keys(DISRUPTIONS);
// Every kind once (shuffled), then at random, the plain kills twice as often.
const order: string[] = [];
try {
  if (!(await startDaemon())) throw new Error("the first daemon did not answer");
  resetModel(true);
  const deck = [...kinds].sort(() => rnd() - 0.5);
  for (round = 1; round <= ROUNDS && !interrupted; round++) {
    const kind = deck.length
      ? deck.shift()!
      : pick([...kinds, ...kinds.filter((k) => k.startsWith("kill"))]);
    order.push(kind);
    disruption = "workload";
    const steps = Math.floor(between(4, 12));
    for (let i = 0; i < steps; i++) {
      await workloadStep().catch((e) => violation(`workload step failed: ${e}`));
      await checkTwice("during the workload");
    }
    disruption = kind;
    const logFrom = daemonLogSize();
    tornAt = null;
    tornJob = "";
    unreadable = null;
    explainedByDamage = null;
    const r = await DISRUPTIONS[kind]!();
    if (r.restart !== "none") {
      if (!(await startDaemon())) {
        violation(`the new daemon did not answer: ${daemonLogSince(logFrom).slice(-2000)}`);
        break;
      }
    }
    if (r.restart === "fresh") resetModel(true);
    await checkTwice("right after the restart");
    const settled = await settle();
    await checkTwice("once settled");
    if (settled) await checkInvariants(r.uncertain);
    const log = daemonLogSince(logFrom);
    if (/internal error/.test(log)) {
      violation(`daemon log: ${/.*internal error.*/.exec(log)![0]}`);
    }
    if (
      (unreadable !== null || tornAt !== null) && !/cannot be read|cannot read|unreadable/.test(log)
    ) {
      violation(`state damaged (${unreadable ?? "torn journal"}): the daemon did not say so`, true);
    }
    if (unreadablePath !== null) {
      try {
        if (Deno.statSync(unreadablePath).isDirectory) Deno.removeSync(unreadablePath);
      } catch { /* gone */ }
      unreadablePath = null;
    }
    const summary = (settled ?? []).filter((l) => l.goal === "start").length;
    console.log(
      `round ${round}: ${kind}${tornAt !== null ? ` (journal cut at ${tornAt}, ${tornJob})` : ""}` +
        `${unreadable ? ` (${unreadable})` : ""}: ${summary} instances running, ` +
        `${findings.filter((f) => f.round === round).length} findings`,
    );
  }
} catch (e) {
  violation(`chaos run aborted: ${e instanceof Error ? e.stack : e}`);
} finally {
  await cleanupAll();
}
console.log(
  `\n${round - 1} rounds (${order.join(", ")}); ${findings.length} findings` +
    (KEEP ? `; dir kept: ${dir}` : ""),
);
for (const f of findings) console.log(`- round ${f.round} (${f.disruption}): ${f.what}`);
if (explained.length) {
  console.log(`${explained.length} more explained by the state damaged on purpose:`);
  for (const f of explained) console.log(`  - round ${f.round} (${f.disruption}): ${f.what}`);
}
Deno.exit(findings.length ? 1 : 0);
