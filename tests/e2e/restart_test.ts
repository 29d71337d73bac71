/**
 * End-to-end: upkeep restarts without touching its jobs. After `kill -9` of the daemon the next
 * daemon adopts every job process still running (by the pid and start time it recorded, never by
 * an environment marker), respawns what ended while no daemon ran, and notices adopted processes
 * that end later. `initctl reexec` and `upkeep upgrade` hand the daemon over in place (same pid),
 * every job kept, its exit statuses still ours.
 */

import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  notDeepStrictEqual as assertNotEquals,
  ok as assert,
} from "node:assert/strict";
import { daemonTest, lines, logged, type TestDaemon } from "./daemon_helpers.ts";
import { pidAlive, REPO_ROOT, runUpkeep, tempDir, waitFor } from "./helpers.ts";
import { StateStore } from "../../lib/supervisor/state_store.ts";
import { type DaemonRecord, SNAPSHOT_VERSION } from "../../lib/supervisor/snapshot.ts";
import { bootId } from "../../lib/process/proc.ts";
import { sendRequest } from "../../lib/control/client.ts";
import { PROTOCOL_VERSION } from "../../lib/control/protocol.ts";

/**
 * kill -9 of the daemon, then a new daemon on the same dirs; `endWhileDown`: job processes killed
 * (and gone) while no daemon runs.
 */
async function crashAndRestart(d: TestDaemon, endWhileDown: number[] = []): Promise<void> {
  const p = d.process!;
  p.kill("SIGKILL");
  await p.status;
  for (const pid of endWhileDown) Deno.kill(pid, "SIGKILL");
  await waitFor(() => !endWhileDown.some(pidAlive), "the job processes ended");
  await d.start();
}

/** Main pid of every job, by name (`list`). */
async function mainPids(d: TestDaemon): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await d.initctl("list")).stdout.split("\n")) {
    const m = /^(\S+) start\/running, process (\d+)/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/**
 * Sleep lengths unique to this test process, so that a second run of the suite on the same
 * machine (whose jobs run the same commands) is never counted: `sleepFor(3000)` is 3000 followed
 * by this process's pid.
 */
const sleepFor = (n: number) => `${n}${Deno.pid}`;

/** Live processes whose command line is exactly `command` (words joined by spaces). */

function running(command: string): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).split("\0").slice(0, -1);
      if (cmd.join(" ") === command && pidAlive(Number(e.name))) out.push(Number(e.name));
    } catch { /* gone */ }
  }
  return out;
}

const JOBS: Record<string, string> = {};
for (let i = 0; i < 5; i++) {
  JOBS[`svc${i}`] = `start on startup\nrespawn\nexec sleep ${sleepFor(3000 + i)}\n`;
}
JOBS["bare"] = `start on startup\nrespawn\nexec env -i /bin/sleep ${sleepFor(3099)}\n`;

daemonTest("kill -9 of the daemon: the next one keeps every job, never a duplicate", JOBS, async (
  d,
) => {
  const before = await waitFor(async () => {
    const m = await mainPids(d);
    return m.size === 6 ? m : null;
  }, "six jobs running");
  await crashAndRestart(d);
  assertEquals(await mainPids(d), before);
  for (let i = 0; i < 5; i++) assertEquals(running(`sleep ${sleepFor(3000 + i)}`).length, 1);
  assertEquals(
    running(`/bin/sleep ${sleepFor(3099)}`).length,
    1,
    "the job without any marker runs once",
  );
  await logged(d, /restart: 6 instances restored, 6 processes kept, 0 had ended/);
  const json = JSON.parse((await d.initctl("status", "--json", "svc1")).stdout)[0];
  assertEquals(json.adopted, true);
  // An adopted process that ends is noticed (no SIGCHLD reaches us for it) and respawned.
  Deno.kill(before.get("svc0")!, "SIGKILL");
  const again = await waitFor(async () => {
    const pid = (await mainPids(d)).get("svc0");
    return pid !== undefined && pid !== before.get("svc0") ? pid : null;
  }, "svc0 respawned");
  assert(pidAlive(again));
  assertEquals(running(`sleep ${sleepFor(3000)}`).length, 1);
});

/**
 * The records a daemon killed at the start of its boot leaves: its daemon record only (written
 * before the boot events), `bootPending` as given; no instance recorded yet.
 */
function leaveBootRecords(state: string, bootPending: boolean): void {
  const store = new StateStore(state, () => {});
  store.clear(true);
  const daemon: DaemonRecord = {
    v: SNAPSHOT_VERSION,
    pid: 999999,
    start: 1,
    bootId: bootId(),
    jobEnv: {},
    at: Date.now(),
    ...(bootPending ? { bootPending: true } : {}),
  };
  store.record({ daemon: JSON.stringify(daemon) }, true);
}

for (const pending of [true, false]) {
  daemonTest(
    `a daemon killed ${
      pending
        ? "before what its boot events started was recorded: the next emits them again"
        : "after its boot: the next emits no boot event"
    }`,
    { boot: `start on startup\nexec sleep ${sleepFor(3109)}\n` },
    async (d) => {
      const first = await d.waitRunning("boot");
      const p = d.process!;
      p.kill("SIGKILL");
      await p.status;
      Deno.kill(first, "SIGKILL");
      await waitFor(() => !pidAlive(first), "the job process ended");
      leaveBootRecords(d.state, pending);
      await d.start();
      if (pending) {
        const again = await d.waitRunning("boot");
        assertNotEquals(again, first);
        assertMatch(d.output, /the boot events were not all taken: emitted again/);
      } else {
        await d.waitStatus("boot", /^boot stop\/waiting$/);
        assertEquals(running(`sleep ${sleepFor(3109)}`), []);
      }
    },
  );
}

daemonTest("a job killed while no daemon ran is respawned once the daemon is back", {
  svc: "start on startup\nrespawn\nexec sleep 3101\n",
  once: "start on startup\nexec sleep 3102\n",
}, async (d) => {
  const svc = await d.waitRunning("svc");
  const once = await d.waitRunning("once");
  await crashAndRestart(d, [svc, once]);
  const fresh = await d.waitRunning("svc");
  assertNotEquals(fresh, svc);
  // Without respawn it stays stopped (its exit status is unknown: no verdict); no boot events
  // were emitted again, so `start on startup` did not start it either.
  await d.waitStatus("once", /^once stop\/waiting$/);
  assertMatch(d.output, /svc main process \(\d+\) ended \(exit status unknown/);
});

for (
  const [kind, job] of [
    ["an expect fork", `expect fork\nexec sh -c 'sleep ${sleepFor(3104)} &'`],
    ["a pre-start", `pre-start exec true\nexec sleep ${sleepFor(3104)}`],
  ]
) {
  daemonTest(`${kind} job killed while no daemon ran is respawned and runs (alone)`, {
    // Respawned by the restore, before the daemon's first turn: its first SIGCHLD (the follow
    // wrapper's stop, the pre-start's end) must not be lost. No other job: no other child's
    // SIGCHLD makes up for it.
    only: `start on startup\nrespawn\n${job}\n`,
  }, async (d) => {
    const before = await d.waitRunning("only");
    await crashAndRestart(d, [before]);
    const again = await d.waitRunning("only");
    assertNotEquals(again, before);
    assertEquals(running(`sleep ${sleepFor(3104)}`), [again]);
  });
}

daemonTest("what a main process that ended while no daemon ran left in its group is stopped", {
  // As nginx's master and workers: the worker holds what the respawned master needs.
  web: `start on startup\nrespawn\nexec sh -c 'sleep ${sleepFor(3105)} & exec sleep ${
    sleepFor(3106)
  }'\n`,
}, async (d) => {
  const main = await d.waitRunning("web");
  const [worker] = await waitFor(() => {
    const w = running(`sleep ${sleepFor(3105)}`);
    return w.length === 1 ? w : null;
  }, "the worker");
  await crashAndRestart(d, [main]);
  const again = await d.waitRunning("web");
  assertNotEquals(again, main);
  await waitFor(() => !pidAlive(worker!), "the old worker stopped");
  await waitFor(() => running(`sleep ${sleepFor(3105)}`).length === 1, "one worker, the new one");
});

daemonTest("a daemon killed while it follows the forks of an expect daemon job: one daemon after", (
  dir,
) => ({
  // Forks, makes its own session, says so, then takes its time before the second fork.
  slow: `expect daemon\nrespawn\nexec /usr/bin/python3 -c 'import os, time; ` +
    `os.fork() and os._exit(0); os.setsid(); open("${dir}/forked", "w").close(); ` +
    `time.sleep(5); os.fork() and os._exit(0); os.execvp("sleep", ["sleep", "${
      sleepFor(3107)
    }"])'\n`,
}), async (d) => {
  const r = await d.initctl("start", "-n", "slow");
  assertEquals(r.code, 0, r.stderr);
  await waitFor(() => Deno.statSync(`${d.dir}/forked`).isFile, "the first fork");
  const half = JSON.parse((await d.initctl("status", "--json", "slow")).stdout)[0].pid;
  // ptrace ends with the daemon: the half-forked process would go on (or stay stopped, as a
  // fork's first stop does) towards a daemon nobody knows. It is stopped, not waited for.
  await crashAndRestart(d);
  await logged(d, new RegExp(`slow main process \\(${half}\\) was forking \\(expect daemon\\)`));
  await waitFor(() => !pidAlive(half), "the half-forked process gone", 1500);
  const main = await waitFor(() => d.mainPid("slow"), "slow running again", 20_000);
  await new Promise((r) => setTimeout(r, 1000)); // what the old one would have forked by now
  assertEquals(running(`sleep ${sleepFor(3107)}`), [main]);
});

daemonTest("a garbled state record: named, the others kept, its process taken over", {
  a: `start on startup\nrespawn\nexec sleep ${sleepFor(3108)}\n`,
  b: `start on startup\nrespawn\nexec sleep ${sleepFor(3109)}\n`,
  c: `start on startup\nrespawn\nexec sleep ${sleepFor(3110)}\n`,
}, async (d) => {
  const before = await waitFor(async () => {
    const m = await mainPids(d);
    return m.size === 3 ? m : null;
  }, "three jobs running");
  const p = d.process!;
  p.kill("SIGKILL");
  await p.status;
  // b's record, wherever it is (snapshot, journal), says `pids: null` (was: no daemon came up).
  const garble = (rec: { st: { pids: unknown } }) => rec.st.pids = null;
  const path = `${d.state}/state/snapshot.json`;
  const snap = JSON.parse(Deno.readTextFileSync(path));
  for (const [k, rec] of Object.entries(snap.instances)) {
    if (k.startsWith("b")) garble(rec as never);
  }
  Deno.writeTextFileSync(path, JSON.stringify(snap));
  const journal = `${d.state}/state/journal`;
  Deno.writeTextFileSync(
    journal,
    lines(journal).map((line) => {
      const e = JSON.parse(line);
      if (e.t === "i" && e.k.startsWith("b") && e.r) garble(e.r);
      return `${JSON.stringify(e)}\n`;
    }).join(""),
  );
  await d.start();
  await logged(d, /state record instance b cannot be read: ignored/);
  // b's record still says it was to run, and its main process: that process is taken over, not
  // left running unsupervised while b looks stopped (and is started a second time by hand).
  const b = before.get("b")!;
  await logged(d, new RegExp(`b main process \\(${b}\\) taken over from the records`));
  await logged(d, /restart: 2 instances restored, 3 processes kept/);
  const after = await mainPids(d);
  assertEquals(after.get("a"), before.get("a"));
  assertEquals(after.get("b"), b);
  assertEquals(after.get("c"), before.get("c"));
  // Supervised again: its end is seen, and b (respawn) runs anew.
  Deno.kill(b, "SIGKILL");
  const again = await waitFor(async () => {
    const m = (await mainPids(d)).get("b");
    return m !== undefined && m !== b ? m : null;
  }, "b respawned");
  assert(pidAlive(again));
});

daemonTest("a stop answered just before a kill -9 stays done, while a crash storm spaces writes", {
  storm: "start on startup\nrespawn\nrespawn limit unlimited\nexec false\n",
  svc: `start on startup\nrespawn\nexec sleep ${sleepFor(3111)}\n`,
}, async (d) => {
  for (let i = 0; i < 3; i++) {
    await d.waitRunning("svc");
    await new Promise((r) => setTimeout(r, 300)); // the storm going: writes spaced out
    // From this process (no initctl start-up): the kill follows the answer within a moment.
    const r = await sendRequest(d.socket, {
      v: PROTOCOL_VERSION,
      cmd: "stop",
      args: ["svc"],
      options: {},
    });
    assert(r.ok && /svc stop\/waiting/.test(r.out), JSON.stringify(r));
    await crashAndRestart(d);
    // The record from before the stop would have it respawned (its process ended meanwhile).
    await new Promise((r) => setTimeout(r, 300));
    assertEquals((await d.initctl("status", "svc")).stdout.trim(), "svc stop/waiting");
    assertEquals(running(`sleep ${sleepFor(3111)}`), []);
    await d.initctl("start", "svc");
  }
});

daemonTest("a crash loop's respawn window and a pending respawn retry go on after a restart", (
  dir,
) => ({
  // Each run waits for a `go` file, then crashes: the test decides when.
  flappy: `respawn\nrespawn limit 3 60\nexec sh -c 'echo x >>${dir}/runs; ` +
    `while [ ! -e ${dir}/go ]; do sleep 0.02; done; rm -f ${dir}/go; exit 1'\n`,
  retry: `respawn\nrespawn limit 1 60\nrespawn retry 3\n` +
    `exec sh -c 'echo x >>${dir}/retries; exit 1'\n`,
}), async (d) => {
  const runs = () => lines(`${d.dir}/runs`).length;
  const crash = async () => {
    const n = runs();
    Deno.writeTextFileSync(`${d.dir}/go`, "");
    await waitFor(
      () => runs() > n || /flappy respawning too fast/.test(d.output),
      "a crash and its respawn",
    );
  };
  await d.initctl("start", "flappy");
  await waitFor(() => runs() === 1, "first run");
  await crash();
  await crash(); // 3 runs: 2 respawns counted in the window
  await d.initctl("start", "retry");
  await waitFor(() => /retry will be started again in 3s/.test(d.output), "retry pending");
  const retryRuns = lines(`${d.dir}/retries`).length;
  await crashAndRestart(d);
  await crash(); // the 3rd respawn: still within the limit
  assertEquals(runs(), 4);
  await crash(); // the 4th: over the limit of 3 in 60 s, counted across both daemons
  await logged(d, /flappy respawning too fast, stopped/);
  assertEquals(runs(), 4);
  // The retry is still due after the restart: it runs again without anyone starting it.
  await waitFor(() => lines(`${d.dir}/retries`).length > retryRuns, "retry ran after restart");
});

daemonTest("initctl reexec: the same daemon pid, every job kept, exits still ours", {
  svc: `start on startup\nrespawn\nexec sleep ${sleepFor(3201)}\n`,
  other: `start on startup\nexec sleep ${sleepFor(3202)}\n`,
}, async (d) => {
  const svc = await d.waitRunning("svc");
  const other = await d.waitRunning("other");
  const daemonPid = d.process!.pid;
  const r = await d.initctl("reexec");
  assertEquals(r.code, 0, r.stderr);
  await logged(d, /re-exec: 2 instances restored, 2 processes kept, 0 had ended/);
  assertEquals(await d.mainPid("svc"), svc);
  assertEquals(await d.mainPid("other"), other);
  assert(pidAlive(daemonPid));
  // Still the parent: the real exit status comes back.
  Deno.kill(svc, "SIGKILL");
  await logged(d, new RegExp(`svc main process \\(${svc}\\) killed by KILL signal`));
  await d.waitRunning("svc");
  assertEquals(running(`sleep ${sleepFor(3202)}`).length, 1);
});

daemonTest("upkeep upgrade: into a program that reports another version, every job kept", {
  svc: "start on startup\nrespawn\nexec sleep 3301\n",
}, async (d) => {
  const svc = await d.waitRunning("svc");
  const next = await tempDir("upkeep-next-");
  try {
    // A copy of this upkeep that calls itself 9.9.9-test, behind a launcher script.
    for (const f of ["main.ts", "deno.json", "deno.lock"]) {
      try {
        Deno.copyFileSync(`${REPO_ROOT}/${f}`, `${next.path}/${f}`);
      } catch { /* no lock file */ }
    }
    await new Deno.Command("cp", { args: ["-r", `${REPO_ROOT}/lib`, next.path] }).output();
    const v = `${next.path}/lib/version.ts`;
    Deno.writeTextFileSync(
      v,
      Deno.readTextFileSync(v).replace(/VERSION = "[^"]*"/, 'VERSION = "9.9.9-test"'),
    );
    const launcher = `${next.path}/upkeep-next`;
    Deno.writeTextFileSync(
      launcher,
      `#!/bin/sh\nexec ${Deno.execPath()} run -A --quiet ${next.path}/main.ts "$@"\n`,
    );
    Deno.chmodSync(launcher, 0o755);
    Deno.chmodSync(next.path, 0o755);
    const r = await runUpkeep(["upgrade", "--socket", d.socket, launcher]);
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stdout, /upkeep upgraded: .*0\.1\.0.* -> .*9\.9\.9-test/);
    assertMatch((await d.initctl("version")).stdout, /9\.9\.9-test/);
    assertEquals(await d.mainPid("svc"), svc);
    const bad = await runUpkeep(["upgrade", "--socket", d.socket, "/bin/false"]);
    assertEquals(bad.code, 1);
    assertEquals(await d.mainPid("svc"), svc);
  } finally {
    await next.cleanup();
  }
});

daemonTest("a process that only carries the socket marker is left alone at start-up", {
  svc: "start on startup\nexec sleep 3401\n",
}, async (d) => {
  const planted = new Deno.Command("sleep", {
    args: ["3402"],
    env: { UPKEEP_SOCKET: d.socket, UPSTART_JOB: "svc" },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await crashAndRestart(d);
    await d.waitRunning("svc");
    assert(pidAlive(planted.pid), "the planted process survived the daemon's start-up");
  } finally {
    planted.kill("SIGKILL");
    await planted.status;
  }
});
