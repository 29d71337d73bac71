/**
 * The supervisor loop with fake ports: events, blocking, chains of jobs, respawn timers, all
 * without a single process or real timer.
 */

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { parseJob } from "../../../lib/job/parse.ts";
import type { JobClass } from "../../../lib/job/model.ts";
import type { InstanceRecord } from "../../../lib/supervisor/snapshot.ts";
import type { ExitStatus } from "../../../lib/supervisor/instance.ts";
import {
  type Instance,
  type ProcessPort,
  type SpawnRequest,
  Supervisor,
  type SupervisorOptions,
  type TimerPort,
} from "../../../lib/supervisor/supervisor.ts";
import { StateStore } from "../../../lib/supervisor/state_store.ts";
import { Recorder } from "../../../lib/supervisor/recorder.ts";
import { instanceRecord } from "./record_fixture.ts";

class FakeProcesses implements ProcessPort {
  nextPid = 1000;
  readonly running = new Map<number, SpawnRequest>();
  readonly spawned: string[] = [];
  readonly killed: [number, string][] = [];
  /** The next spawns throw this error (one spawn each), as a full fd table makes them. */
  failures: string[] = [];
  spawn(req: SpawnRequest): number {
    const failure = this.failures.shift();
    if (failure !== undefined) throw new Error(failure);
    const pid = this.nextPid++;
    this.running.set(pid, req);
    this.spawned.push(`${req.job.name}/${req.kind}`);
    return pid;
  }
  kill(pid: number, signal: string): void {
    this.killed.push([pid, signal]);
    if (signal === "TERM" || signal === "KILL") this.exit(pid, { code: null, signal });
  }
  signal(): void {}
  adopt(_pid: number, _start: number | null, _main: boolean, _onExit: unknown): boolean {
    return false;
  }
  findUnrecorded?: ProcessPort["findUnrecorded"];
  lostGroup?: ProcessPort["lostGroup"];
  killGroup(_pgid: number, _signal: string, onGone: () => void): void {
    queueMicrotask(onGone);
  }
  exit(pid: number, status: ExitStatus): void {
    const req = this.running.get(pid);
    if (!req) return;
    this.running.delete(pid);
    queueMicrotask(() => req.onExit(pid, status, null));
  }
  /** Let the first running process of job/kind end with `code`. */
  finish(job: string, kind: string, code = 0): void {
    for (const [pid, req] of this.running) {
      if (req.job.name === job && req.kind === kind) return this.exit(pid, { code, signal: null });
    }
    throw new Error(`no ${job}/${kind} running`);
  }
}

class FakeTimers implements TimerPort {
  t = 0;
  soon?: (fn: () => void) => void;
  #next = 1;
  readonly pending = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  set(ms: number, fn: () => void): number {
    const id = this.#next++;
    this.pending.set(id, { at: this.t + ms, fn });
    return id;
  }
  clear(id: number): void {
    this.pending.delete(id);
  }
  advance(ms: number): void {
    this.t += ms;
    for (const [id, p] of [...this.pending]) {
      if (p.at <= this.t) {
        this.pending.delete(id);
        p.fn();
      }
    }
  }
}

function jobs(files: Record<string, string>): Map<string, JobClass> {
  const out = new Map<string, JobClass>();
  for (const [name, text] of Object.entries(files)) {
    const r = parseJob(text, { name, file: `${name}.conf` });
    if (!r.job) throw new Error(`${name}: ${JSON.stringify(r.diagnostics)}`);
    out.set(name, r.job);
  }
  return out;
}

function world(
  files: Record<string, string>,
  recorder?: SupervisorOptions["recorder"],
  processEnv: Record<string, string> = {},
) {
  const processes = new FakeProcesses();
  const timers = new FakeTimers();
  const log: string[] = [];
  const sup = new Supervisor({
    processes,
    timers,
    log: (m) => log.push(m),
    logDir: "/logs",
    jobEnv: { PATH: "/bin" },
    processEnv,
    ...(recorder ? { recorder } : {}),
  });
  sup.setJobs(jobs(files));
  const state = (job: string, instance = "") => {
    const inst = sup.classes.get(job)?.instances.get(instance);
    return inst ? `${inst.st.goal}/${inst.st.state}` : "stop/waiting";
  };
  return { sup, processes, timers, log, state };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

Deno.test("Supervisor starts jobs on an event and chains `start on started`", async () => {
  const w = world({
    db: "start on startup\nexec db\n",
    app: "start on started db\nexec app\n",
  });
  w.sup.emit("startup", []);
  assertEquals(w.state("db"), "start/running");
  assertEquals(w.state("app"), "start/running");
  assertEquals(w.processes.spawned, ["db/main", "app/main"]);
  await settle();
});

Deno.test("Supervisor holds a job in starting until the tasks it started have finished", async () => {
  const w = world({
    app: "exec app\n",
    prep: "start on starting app\ntask\nexec prep\n",
  });
  w.sup.call(() => w.sup.startInstance(w.sup.classes.get("app")!, "", { PATH: "/bin" }, null));
  assertEquals(w.state("app"), "start/starting");
  assertEquals(w.state("prep"), "start/running");
  w.processes.finish("prep", "main");
  await settle();
  assertEquals(w.state("prep"), "stop/waiting");
  assertEquals(w.state("app"), "start/running");
});

Deno.test("Supervisor reports emit as finished only when the jobs it started settled", async () => {
  const w = world({ t: "start on go\ntask\nexec t\n" });
  let finished: boolean | null = null;
  w.sup.emit("go", [], (failed) => finished = failed);
  assertEquals(finished, null);
  w.processes.finish("t", "main", 1);
  await settle();
  assertEquals(finished, true);
});

Deno.test("Supervisor stops a job on `stop on stopping` of another", async () => {
  const w = world({
    db: "start on startup\nexec db\n",
    app: "start on started db\nstop on stopping db\nexec app\n",
  });
  w.sup.emit("startup", []);
  const db = w.sup.classes.get("db")!.instances.get("")!;
  w.sup.call(() => w.sup.stopInstance(db, null, null));
  await settle();
  await settle();
  assertEquals(w.state("app"), "stop/waiting");
  assertEquals(w.state("db"), "stop/waiting");
});

Deno.test("Supervisor waits the respawn delay between quick crashes", async () => {
  const w = world({
    c: "start on startup\nrespawn\nrespawn limit unlimited\nrespawn delay 1 8\nexec c\n",
  });
  w.sup.emit("startup", []);
  w.processes.finish("c", "main", 1);
  await settle();
  assertEquals(w.state("c"), "start/post-stop");
  w.timers.advance(999);
  assertEquals(w.state("c"), "start/post-stop");
  w.timers.advance(1);
  assertEquals(w.state("c"), "start/running");
  w.processes.finish("c", "main", 1);
  await settle();
  w.timers.advance(1000);
  assertEquals(w.state("c"), "start/post-stop");
  w.timers.advance(1000);
  assertEquals(w.state("c"), "start/running");
  assert(w.log.some((l) => /respawning in 2s/.test(l)));
});

Deno.test("Supervisor starts a job again after `respawn retry` once it hit its limit", async () => {
  const w = world({
    r: "start on startup\nrespawn\nrespawn limit 1 60\nrespawn retry 30\nexec r\n",
  });
  w.sup.emit("startup", []);
  w.processes.finish("r", "main", 1);
  await settle();
  w.processes.finish("r", "main", 1);
  await settle();
  assertEquals(w.state("r"), "stop/waiting");
  w.timers.advance(30_000);
  assertEquals(w.state("r"), "start/running");
});

Deno.test("Supervisor spawns again after a pause when a spawn fails for want of fds", async () => {
  const w = world({ r: "respawn\nexec r\n" });
  w.processes.failures = Array(20).fill("cannot open log /logs/r.log: Too many open files");
  w.sup.call(() => w.sup.startInstance(w.sup.classes.get("r")!, "", { PATH: "/bin" }, null));
  for (let i = 0; i < 5; i++) await settle();
  // Not given up within one turn (Upstart's limit of 10 in 5 s would be reached at once).
  assertEquals(w.state("r"), "start/post-stop");
  assert(w.log.some((l) => /r respawning in 1s \(back-off 1\): .*Too many open files/.test(l)));
  const inst = w.sup.classes.get("r")!.instances.get("")!;
  assertEquals(w.sup.failureOf(w.sup.classes.get("r")!, "")?.nextTry, inst.respawnAt);
  w.processes.failures = [];
  w.timers.advance(1000);
  for (let i = 0; i < 5; i++) await settle();
  assertEquals(w.state("r"), "start/running");
});

Deno.test("Supervisor keeps a partly matched start on across a reload of unchanged files", () => {
  const files = { both: "start on a and b\nexec both\n" };
  const w = world(files);
  w.sup.emit("a", []);
  w.sup.setJobs(jobs(files));
  w.sup.emit("b", []);
  assertEquals(w.state("both"), "start/running");
  const changed = world(files);
  changed.sup.emit("a", []);
  changed.sup.setJobs(jobs({ both: "start on a and b\nexec other\n" }));
  changed.sup.emit("b", []);
  assertEquals(changed.state("both"), "stop/waiting");
});

Deno.test("Supervisor keeps a running job's class until its last instance stops (Upstart)", async () => {
  const w = world({ a: "start on go\nexec a\n" });
  w.sup.emit("go", []);
  assertEquals(w.state("a"), "start/running");
  w.sup.setJobs(jobs({ a: "start on other\nexec b\n" }));
  const cls = w.sup.classes.get("a")!;
  // The old definition stays: show-config, start on and new instances use it.
  assertEquals(cls.job.main, { exec: "a" });
  assertEquals(cls.pending?.main, { exec: "b" });
  w.sup.stopInstance(cls.instances.get("")!, null, null);
  await settle();
  assertEquals(w.state("a"), "stop/waiting");
  assertEquals(cls.job.main, { exec: "b" });
  assertEquals(cls.pending, null);
  w.sup.emit("other", []);
  assertEquals(w.state("a"), "start/running");
  assertEquals(w.processes.spawned, ["a/main", "a/main"]);
});

/** A record of instance "" of `job` in world `w` as it is now, with the journal's `procs`. */
function recordOf(
  w: ReturnType<typeof world>,
  job: string,
  procs: InstanceRecord["procs"],
): InstanceRecord {
  const inst = w.sup.classes.get(job)!.instances.get("")!;
  return instanceRecord(inst.job, inst.st, procs, inst.env);
}

Deno.test("restore: a main process journalled after a record that says starting makes it running", async () => {
  const files = {
    app: "start on startup\nexec app\n",
    prep: "start on starting app\ntask\nexec prep\n",
  };
  const before = world(files);
  before.sup.emit("startup", []);
  assertEquals(before.state("app"), "start/starting"); // held by the prep task
  const rec = recordOf(before, "app", { main: { pid: 4242, start: 7 } });

  const after = world(files);
  after.processes.adopt = () => true;
  after.sup.restore({ instances: [rec], classes: [] }, 0);
  assertEquals(after.state("app"), "start/running");
  assertEquals(after.sup.classes.get("app")!.instances.get("")!.st.pids.main, 4242);
  await settle();
});

Deno.test("restore: a process the record lists but the journal says ended is handed on as ended", async () => {
  const files = { app: "start on startup\nexec app\n" };
  const before = world(files);
  before.sup.emit("startup", []);
  assertEquals(before.state("app"), "start/running");
  const rec = recordOf(before, "app", {}); // the journal: the main process ended since

  const after = world(files);
  after.processes.adopt = () => true;
  const r = after.sup.restore({ instances: [rec], classes: [] }, 0);
  assertEquals(r.ended, 1);
  await settle();
  assertEquals(after.state("app"), "stop/waiting");
});

Deno.test("restore: a main whose end is journalled before its instance's record leaves its strays to be stopped", async () => {
  // Chaos (scripts/restart_chaos.ts, kill-mid-respawn): the main process ended, its end was
  // journalled, the instance's record (which names it and its strays) was not yet, and then the
  // daemon was killed: the next one respawned the job and left the processes of the old main's
  // group running outside every job.
  const files = { app: "start on startup\nrespawn\nexec app\n" };
  const before = world(files);
  before.sup.emit("startup", []);
  const main = before.sup.classes.get("app")!.instances.get("")!.st.pids.main!;
  const rec = recordOf(before, "app", {}); // the journal: the main process ended since

  const after = world(files);
  const asked: [number, number | null][] = [];
  const stopped: [number, string][] = [];
  after.processes.lostGroup = (pid, start) => {
    asked.push([pid, start]);
    return pid; // its group still has live members
  };
  after.processes.killGroup = (pgid, signal, onGone) => {
    stopped.push([pgid, signal]);
    queueMicrotask(onGone);
  };
  after.sup.restore({ instances: [rec], classes: [] }, 0);
  await settle();
  assertEquals(asked, [[main, null]]);
  assertEquals(stopped, [[main, "TERM"]]);
  assertEquals(after.processes.spawned, ["app/main"]); // respawned once the group was empty
  assertEquals(after.state("app"), "start/running");
});

Deno.test("restore: a main salvaged from a garbled record respawns with the environment that record still held", async () => {
  // Chaos (scripts/restart_chaos.ts, garbled-record then kill-mid-respawn): worker (1) of
  // `instance $N` was taken over without its record, and its respawn ran `sleep ...4` without N.
  const files = { w: "instance $N\nrespawn\nexec w $N\n" };
  const after = world(files);
  let onExit: ((pid: number, status: ExitStatus, strays: number | null) => void) | null = null;
  after.processes.adopt = (_pid, _start, _main, exit) => {
    onExit = exit as typeof onExit;
    return true;
  };
  after.sup.restore({
    instances: [],
    classes: [],
    lone: [{ job: "w", instance: "1", kind: "main", pid: 4242, start: 7, env: { N: "1" } }],
  }, 0);
  assertEquals(after.state("w", "1"), "start/running");
  onExit!(4242, { code: 1, signal: null }, null);
  await settle();
  assertEquals(after.processes.spawned, ["w/main"]);
  const [req] = [...after.processes.running.values()];
  assertEquals(req!.env.N, "1");
});

/**
 * A world whose changes go to a real state store in a temp dir, and what a daemon killed at this
 * instant would find there: each job's processes (pids by kind), from records and lone processes.
 */
function recordedWorld(files: Record<string, string>) {
  const dir = Deno.makeTempDirSync({ prefix: "upkeep-recorded-" });
  const store = new StateStore(dir, () => {});
  const recorder = new Recorder({
    store,
    now: () => performance.now(),
    wallOffset: () => 0,
    processStart: (pid) => pid * 10,
    jobEnv: () => ({}),
    daemon: () => ({ pid: 1, start: 1, bootId: "boot" }),
  });
  const w = world(files, recorder);
  const found = (): Record<string, Record<string, number>> => {
    const loaded = new StateStore(dir, () => {}).load();
    const out: Record<string, Record<string, number>> = {};
    for (const r of loaded.instances) {
      out[r.job.name] = Object.fromEntries(
        Object.entries(r.procs).map(([kind, p]) => [kind, p!.pid]),
      );
    }
    for (const p of loaded.lone) (out[p.job] ??= {})[p.kind] = p.pid;
    return out;
  };
  const records = () => new StateStore(dir, () => {}).load();
  return { ...w, found, records, cleanup: () => Deno.removeSync(dir, { recursive: true }) };
}

/** End process `pid` of the fake world now, in this very turn (no microtask in between). */
function endNow(w: ReturnType<typeof world>, pid: number, code = 0): void {
  const req = w.processes.running.get(pid)!;
  w.processes.running.delete(pid);
  req.onExit(pid, { code, signal: null }, null);
}

Deno.test("restart: a process is on disk once spawned, before the loop turn that spawned it ends", async () => {
  // Chaos (scripts/restart_chaos.ts): a daemon killed in the turn of a spawn, after it, left
  // the process unrecorded: the next daemon started the job a second time, or left an orphan.
  const w = recordedWorld({
    a: "start on startup\nrespawn\npre-start exec prep\nexec a\n",
    b: "start on startup\nexec b\n",
  });
  try {
    w.sup.emit("startup", []);
    // Not a tick later: what a kill -9 now leaves.
    assertEquals(w.found(), { a: { preStart: 1000 }, b: { main: 1001 } });
    endNow(w, 1000); // pre-start done: main spawned in this turn
    assertEquals(w.found(), { a: { main: 1002 }, b: { main: 1001 } });
    endNow(w, 1002, 1); // a crash: its respawn runs pre-start again in this turn
    assertEquals(w.found(), { a: { preStart: 1003 }, b: { main: 1001 } });
    endNow(w, 1003);
    assertEquals(w.found(), { a: { main: 1004 }, b: { main: 1001 } });
    await settle(); // the turn's own writes (ends, records) change nothing of it
    await new Promise((r) => setTimeout(r, 150));
    assertEquals(w.found(), { a: { main: 1004 }, b: { main: 1001 } });
  } finally {
    w.cleanup();
  }
});

Deno.test("restart: the respawn of an expect fork job is on disk with its instance's record", async () => {
  // Chaos (scripts/restart_chaos.ts, kill-mid-respawn): a daemon killed while it followed the
  // forks of a respawned `expect fork` main left the new main's pid beside the record of the run
  // before (running, no forks left): the next daemon took the half-forked process for the forked
  // daemon, and the job showed start/running with a process that was not the job's.
  const files = { d: "expect fork\nrespawn\nexec d\n" };
  const w = recordedWorld(files);
  try {
    w.sup.call(() => w.sup.startInstance(w.sup.classes.get("d")!, "", {}, null));
    const first = w.processes.running.get(1000)!;
    first.onForked!(5001, true);
    await settle();
    assertEquals(w.state("d"), "start/running");
    w.processes.running.delete(1000);
    first.onExit(5001, { code: 1, signal: null }, null); // the forked daemon crashes
    await settle();
    assertEquals(w.processes.spawned, ["d/main", "d/main"]); // respawned: 1001, being followed
    // What a kill -9 now leaves, restored by the next daemon.
    const after = world(files);
    after.processes.adopt = () => true;
    after.sup.restore({ instances: w.records().instances, classes: [] }, 0);
    await settle();
    assert(after.processes.killed.some(([pid, sig]) => pid === 1001 && sig === "KILL"));
    assert(
      after.log.some((l) => /d main process \(1001\) was forking.*killed/.test(l)),
      after.log.join("\n"),
    );
    assertEquals(after.processes.spawned, ["d/main"]); // spawned again, followed from the start
    assertEquals(after.state("d"), "start/spawned");
  } finally {
    w.cleanup();
  }
});

Deno.test("restore: a main process whose forks were being followed is killed and respawned", async () => {
  // Chaos (scripts/restart_chaos.ts): a daemon killed while it followed the forks of an `expect
  // daemon` job; the next one took the half-forked process (stopped: ptrace ended with the old
  // daemon) for the running daemon, and the job showed start/running with it for ever.
  const files = { d: "expect daemon\nrespawn\nexec d\n" };
  const before = world(files);
  before.sup.call(() => before.sup.startInstance(before.sup.classes.get("d")!, "", {}, null));
  assertEquals(before.state("d"), "start/spawned"); // no fork seen yet
  const rec = recordOf(before, "d", { main: { pid: 4242, start: 7 } });

  const after = world(files);
  after.processes.adopt = () => true;
  after.sup.restore({ instances: [rec], classes: [] }, 0);
  await settle();
  assert(after.processes.killed.some(([pid, sig]) => pid === 4242 && sig === "KILL"));
  // Spawned again, its forks followed from the start.
  assertEquals(after.processes.spawned, ["d/main"]);
  assertEquals(after.state("d"), "start/spawned");
  assert(
    after.log.some((l) => /d main process \(4242\) was forking.*killed/.test(l)),
    after.log.join("\n"),
  );
});

Deno.test("restore: a record that cannot be restored is named and left out, the others restored", async () => {
  const files = { a: "start on startup\nexec a\n", b: "start on startup\nexec b\n" };
  const before = world(files);
  before.sup.emit("startup", []);
  const recA = recordOf(before, "a", { main: { pid: 4242, start: 7 } });
  const recB = recordOf(before, "b", { main: { pid: 4343, start: 8 } });

  const after = world(files);
  after.processes.adopt = () => true;
  const r = after.sup.restore({ instances: [recA, recB], classes: [] }, 0, (inst) => {
    if (inst.job.name === "a") throw new Error("garbled");
  });
  await settle();
  assertEquals(after.state("a"), "stop/waiting");
  assertEquals(after.state("b"), "start/running");
  assertEquals(after.sup.classes.get("b")!.instances.get("")!.st.pids.main, 4343);
  assert(after.log.some((l) => /state record of a cannot be restored: garbled: ignored/.test(l)));
  assert(r.adopted >= 1);
});

Deno.test("restart: a stop is on disk at the end of its turn, even while a crash loop spaces the writes", async () => {
  // Found with restart_chaos: `initctl stop svc` answered `svc stop/waiting`, a kill -9 a few
  // ms later, and the next daemon respawned svc from the record written before the stop.
  const w = recordedWorld({
    svc: "respawn\nexec svc\n",
    loop: "respawn\nrespawn limit unlimited\nexec loop\n",
  });
  try {
    const start = (job: string) =>
      w.sup.call(() => w.sup.startInstance(w.sup.classes.get(job)!, "", {}, null));
    start("svc");
    start("loop");
    await settle();
    // A crash loop: changes back to back, so the writes of records get spaced out.
    for (let i = 0; i < 6; i++) {
      const pid = [...w.processes.running].find(([, r]) => r.job.name === "loop")![0];
      endNow(w, pid, 1);
      await Promise.resolve();
    }
    const svc = w.sup.classes.get("svc")!.instances.get("")!;
    w.sup.stopInstance(svc, null, null);
    for (let i = 0; i < 20; i++) await Promise.resolve(); // the end of the turn, no timer
    assertEquals(w.state("svc"), "stop/waiting");
    assertEquals(Object.keys(w.found()).sort(), ["loop"]);
  } finally {
    w.cleanup();
  }
});

Deno.test("a process is told to the recorder as soon as it is spawned, before the next spawn", () => {
  const names = ["a", "b", "c", "d", "e", "f"];
  const journal: string[] = [];
  const told = (inst: Instance, kind: string, pid: number | null) =>
    void journal.push(`${inst.job.name}/${kind} ${pid}`);
  const w = world(Object.fromEntries(names.map((n) => [n, `start on startup\nexec ${n}\n`])), {
    instanceChanged: () => {},
    classChanged: () => {},
    processChanged: told,
    processStarted: told,
  });
  // Each spawn sees every one before it already told, also within a turn's burst of held spawns
  // (a daemon killed during a spawn, where kill -9 mostly finds it in a burst, then leaves no
  // process a later daemon does not know of).
  const seen: string[] = [];
  const spawn = w.processes.spawn.bind(w.processes);
  w.processes.spawn = (req) => {
    seen.push([...new Set(journal)].join(","));
    w.timers.t += 0.4; // spawns take time: the turn's budget runs out, the rest are held
    return spawn(req);
  };
  w.sup.emit("startup", []);
  for (let i = 0; i < 5 && w.processes.spawned.length < names.length; i++) w.timers.advance(0);
  assertEquals(w.processes.spawned.length, names.length);
  assertEquals(
    seen,
    names.map((_, i) => names.slice(0, i).map((n, k) => `${n}/main ${1000 + k}`).join(",")),
  );
});

Deno.test("restore: a main process never spawned before the restart is spawned now, once", async () => {
  const files = { app: "start on startup\nexec app\n", hooked: "pre-start exec p\nexec h\n" };
  const before = world(files);
  before.sup.emit("startup", []);
  before.sup.call(() =>
    before.sup.startInstance(before.sup.classes.get("hooked")!, "", { PATH: "/bin" }, null)
  );
  // As a record written while the spawns were held for the next turn says it.
  const app = recordOf(before, "app", {});
  const spawned = { ...app, st: { ...app.st, state: "spawned" as const, pids: {} } };
  const hooked = recordOf(before, "hooked", {});
  const preStart = { ...hooked, st: { ...hooked.st, state: "pre-start" as const, pids: {} } };

  const after = world(files);
  const r = after.sup.restore({ instances: [spawned, preStart], classes: [] }, 0);
  assertEquals(r, { adopted: 0, ended: 0 });
  await settle();
  assertEquals(after.processes.spawned, ["app/main", "hooked/preStart"]);
  assertEquals(after.state("app"), "start/running");
  assertEquals(after.state("hooked"), "start/pre-start");
  assert(after.log.some((l) => /app main process was not started before the restart/.test(l)));
  after.processes.finish("hooked", "preStart");
  await settle();
  assertEquals(after.state("hooked"), "start/running");
  assertEquals(after.processes.spawned, ["app/main", "hooked/preStart", "hooked/main"]);
});

Deno.test("restore: a post-stop waiting out its respawn delay is not started again", async () => {
  const files = { r: "respawn\npost-stop exec ps\nexec r\n" };
  const before = world(files);
  before.sup.call(() => before.sup.startInstance(before.sup.classes.get("r")!, "", {}, null));
  const r = recordOf(before, "r", {});
  const waiting = {
    ...r,
    st: { ...r.st, state: "post-stop" as const, pids: {}, respawnDelay: 2 },
    respawnAt: Date.now() + 2000,
  };
  const after = world(files);
  after.sup.restore({ instances: [waiting], classes: [] }, 0);
  await settle();
  assertEquals(after.processes.spawned, []); // no second post-stop: the delay runs
  assertEquals(after.state("r"), "start/post-stop");
});

Deno.test("restore: a main process spawned but not recorded before the restart is taken over", async () => {
  const files = { app: "start on startup\nexec app\n", other: "start on startup\nexec other\n" };
  const before = world(files);
  before.sup.emit("startup", []);
  const spawned = (job: string) => {
    const r = recordOf(before, job, {});
    return { ...r, st: { ...r.st, state: "spawned" as const, pids: {} } };
  };
  const after = world(files, undefined, { UPKEEP_SOCKET: "/run/upkeep.sock" });
  const asked: unknown[] = [];
  after.processes.findUnrecorded = (queries, known) => {
    asked.push(queries, [...known]);
    return queries.map((q) => q?.job === "app" ? { pid: 4343, start: 9 } : null);
  };
  const adopted: number[] = [];
  after.processes.adopt = (pid) => (adopted.push(pid), true);
  after.sup.restore(
    { instances: [spawned("app"), spawned("other")], classes: [], daemonStart: 5 },
    0,
  );
  await settle();
  assertEquals(asked, [[
    { job: "app", instance: "", socket: "/run/upkeep.sock", since: 5, anyUser: false },
    { job: "other", instance: "", socket: "/run/upkeep.sock", since: 5, anyUser: false },
  ], []]);
  assertEquals(adopted, [4343]);
  assertEquals(after.processes.spawned, ["other/main"]); // app's is not spawned a second time
  assertEquals(after.state("app"), "start/running");
  assertEquals(after.sup.classes.get("app")!.instances.get("")!.st.pids.main, 4343);
  assert(after.log.some((l) => /app main process \(4343\) was started but not recorded/.test(l)));
});

Deno.test("spawn turns: by timer at first and while other inputs come in, at once after full quiet turns", async () => {
  const names = Array.from({ length: 400 }, (_, i) => `j${i}`);
  const w = world(Object.fromEntries(names.map((n) => [n, `start on startup\nexec ${n}\n`])));
  const hops: string[] = [];
  const soon: (() => void)[] = [];
  w.timers.soon = (fn) => {
    hops.push("soon");
    soon.push(fn);
  };
  const set = w.timers.set.bind(w.timers);
  w.timers.set = (ms, fn) => {
    if (ms === 0) hops.push("timer");
    return set(ms, fn);
  };
  const spawn = w.processes.spawn.bind(w.processes);
  w.processes.spawn = (req) => {
    w.timers.t += 0.5; // each spawn takes 0.5 ms
    return spawn(req);
  };
  const turn = () => soon.length ? soon.shift()!() : w.timers.advance(0);
  w.sup.emit("startup", []);
  // Budgets 1, 2, 4, 8 ms by timer; then 16 ms turns at once.
  for (let i = 0; i < 6; i++) turn();
  assertEquals(hops.slice(0, 6), ["timer", "timer", "timer", "timer", "timer", "soon"]);
  // An input between two turns (an exit): back to a 1 ms turn, by timer.
  w.processes.finish("j0", "main");
  await Promise.resolve(); // the exit is handed on
  turn();
  assertEquals(hops.at(-1), "timer");
  for (let i = 0; i < 200 && w.processes.spawned.length < names.length; i++) turn();
  assertEquals(w.processes.spawned.length, names.length);
});
