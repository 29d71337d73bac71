/**
 * End-to-end: every initctl command and error path against a real daemon, compared with
 * Upstart's exact output. Expected text uses `{PID}` for a process id and `{ANY}` for any text.
 */

import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { runUpkeepAsNobody } from "./as_nobody.ts";
import { daemonTest, type TestDaemon } from "./daemon_helpers.ts";
import { runUpkeep, upkeepArgv, waitFor } from "./helpers.ts";

const JOBS: Record<string, string> = {
  web: 'description "web app"\nusage "web PORT=N"\nrespawn\nexec sleep 1000\n',
  worker: "instance $N\nexec sleep 1000\n",
  pool: 'instance $N\nusage "pool N=<n>"\nexec sleep 1000\n',
  slow: "pre-start exec sleep 1000\nexec sleep 1000\n",
  poststart: "exec sleep 1000\npost-start exec sleep 1000\n",
  once: "task\nexec true\n",
  selfstop: "pre-start script\n  stop; exit 0\nend script\nexec sleep 1000\n",
  emitter: "task\nexec initctl emit --no-wait custom-event FROM=emitter\n",
  listener: "start on custom-event FROM=emitter\nexec sleep 1000\n",
};

/** Turn an expected text with {PID}/{ANY} into an anchored regular expression. */
function golden(expected: string): RegExp {
  const escaped = expected.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    .replaceAll("\\{PID\\}", "\\d+").replaceAll("\\{ANY\\}", "[^]*");
  return new RegExp(`^${escaped}$`);
}

type Case = [args: string[], code: number, stdout: string, stderr?: string];

/** Run cases in order against one daemon; each is [args, exit code, stdout, stderr]. */
async function runCases(d: TestDaemon, cases: Case[]): Promise<void> {
  for (const [args, code, stdout, stderr = ""] of cases) {
    const r = await d.initctl(...args);
    const where = `initctl ${args.join(" ")}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
    assertEquals(r.code, code, where);
    assertMatch(r.stdout.replace(/\n$/, ""), golden(stdout), where);
    assertMatch(r.stderr.replace(/\n$/, ""), golden(stderr), where);
  }
}

function test(name: string, fn: (d: TestDaemon) => Promise<void>): void {
  daemonTest(name, JOBS, fn);
}

test("initctl start/stop/status/restart answer in Upstart's words", async (d) => {
  await runCases(d, [
    [["status", "nope"], 1, "", "initctl: Unknown job: nope"],
    [["start", "nope"], 1, "", "initctl: Unknown job: nope"],
    [["status", "web"], 0, "web stop/waiting"],
    [["stop", "web"], 1, "", "initctl: Unknown instance: "],
    [["start", "web"], 0, "web start/running, process {PID}"],
    [["start", "web"], 1, "", "initctl: Job is already running: web"],
    [["status", "web"], 0, "web start/running, process {PID}"],
    [["restart", "web"], 0, "web start/running, process {PID}"],
    [["reload", "web"], 0, ""],
    [["stop", "web"], 0, "web stop/waiting"],
    [["status", "web"], 0, "web stop/waiting"],
    [["start", "web", "FOO"], 1, "", "initctl: Env must be KEY=VALUE pairs"],
    [["usage", "web"], 0, "Usage: web PORT=N"],
  ]);
});

test("initctl on instances: names, unknown instance, unknown parameter", async (d) => {
  await runCases(d, [
    [["start", "worker", "N=1"], 0, "worker (1) start/running, process {PID}"],
    [["start", "worker", "N=1"], 1, "", "initctl: Job is already running: worker (1)"],
    [["status", "worker", "N=1"], 0, "worker (1) start/running, process {PID}"],
    [["status", "worker", "N=9"], 1, "", "initctl: Unknown instance: 9"],
    [["start", "worker"], 1, "", "initctl: Unknown parameter: N"],
    [["start", "pool"], 1, "", "initctl: Unknown parameter: N\nUsage: pool N=<n>"],
    // As Upstart: the instance is gone once stopped, so the line has no instance name.
    [["stop", "worker", "N=1"], 0, "worker stop/waiting"],
  ]);
});

test("status shows hook processes as Upstart does", async (d) => {
  await runCases(d, [
    [["start", "-n", "slow"], 0, "slow start/{ANY}"],
  ]);
  await d.waitStatus("slow", /^slow start\/pre-start, process \d+$/);
  await runCases(d, [[["start", "-n", "poststart"], 0, "poststart start/{ANY}"]]);
  const line = await d.waitStatus("poststart", /post-start, process/);
  assertMatch(line.trim(), /^poststart start\/post-start, process \d+\n\tpost-start process \d+$/);
  // As Upstart: a stop lets the running pre-start finish; it ends when the pre-start does.
  await runCases(d, [[["stop", "-n", "slow"], 0, "slow stop/pre-start, process {PID}"]]);
  const pre = Number(/process (\d+)/.exec((await d.initctl("status", "slow")).stdout)?.[1]);
  Deno.kill(pre, "SIGTERM");
  await d.waitStatus("slow", /^slow stop\/waiting$/);
});

test("stop --no-wait of a job that ends at once on TERM mostly answers stop/waiting, as Upstart", async (d) => {
  // Upstart's initctl asks for the status after the stop, by when init has mostly reaped the job
  // (its own answer is a race: stop/killed now and then). upkeep waits up to 20 ms for the stop
  // to settle; a loaded machine may still miss that, so three tries get one chance each.
  const answers: string[] = [];
  for (let i = 0; i < 3 && !answers.includes("web stop/waiting"); i++) {
    await runCases(d, [[["start", "web"], 0, "web start/running, process {PID}"]]);
    const r = await d.initctl("stop", "-n", "web");
    assertEquals(r.code, 0, r.stderr);
    answers.push(r.stdout.trim());
    await d.waitStatus("web", /^web stop\/waiting$/);
  }
  assert(answers.includes("web stop/waiting"), answers.join("\n"));
  // A job still stopping when the moment is over is shown as it is.
  await runCases(d, [
    [["start", "-n", "slow"], 0, "slow start/{ANY}"],
  ]);
  await d.waitStatus("slow", /^slow start\/pre-start, process \d+$/);
  await runCases(d, [[["stop", "-n", "slow"], 0, "slow stop/pre-start, process {PID}"]]);
  const pre = Number(/process (\d+)/.exec((await d.initctl("status", "slow")).stdout)?.[1]);
  Deno.kill(pre, "SIGTERM");
  await d.waitStatus("slow", /^slow stop\/waiting$/);
});

test("list, --json, version, emit, env commands", async (d) => {
  await d.initctl("start", "web");
  const list = await d.initctl("list");
  assertEquals(list.code, 0);
  const lines = list.stdout.trim().split("\n");
  assert(lines.includes("once stop/waiting"));
  assert(lines.some((l) => /^web start\/running, process \d+$/.test(l)));
  const json = JSON.parse((await d.initctl("status", "--json", "web")).stdout);
  assertEquals(json[0].name, "web");
  assertEquals(json[0].goal, "start");
  assertEquals(json[0].state, "running");
  assertEquals(typeof json[0].pid, "number");
  assertMatch(json[0].logFile, /web\.log$/);
  const all = JSON.parse((await d.initctl("list", "--json")).stdout);
  assert(all.some((o: { name: string }) => o.name === "once"));
  await runCases(d, [
    [["status"], 1, "", "initctl: missing job name\nTry `initctl --help' for more information."],
    [["version"], 0, "init (upkeep {ANY})"],
    [["emit", "custom-event", "FROM=emitter"], 0, ""],
    [["set-env", "FOO=bar"], 0, ""],
    [["get-env", "FOO"], 0, "bar"],
    [["unset-env", "FOO"], 0, ""],
    [["get-env", "FOO"], 1, "", "initctl: No such variable: FOO"],
    [["emit"], 1, "", "initctl: missing event name\nTry `initctl --help' for more information."],
    [["frob"], 1, "", "initctl: invalid command: frob\nTry `initctl --help' for more information."],
    [["stop"], 1, "", "initctl: missing job name\nTry `initctl --help' for more information."],
    [["log-priority"], 0, "message"],
  ]);
  await d.waitRunning("listener");
});

test("a task's start waits for it to finish; emit from inside a job starts a listener", async (d) => {
  await runCases(d, [[["start", "once"], 0, "once stop/waiting"]]);
  await runCases(d, [[["start", "emitter"], 0, "emitter stop/waiting"]]);
  await d.waitRunning("listener");
});

test("stop inside pre-start stops the job cleanly (Ubuntu's ssh job)", async (d) => {
  const r = await d.initctl("start", "selfstop");
  assertEquals(r.code, 0, r.stderr);
  await d.waitStatus("selfstop", /^selfstop stop\/waiting$/);
  assert(!/selfstop.*failed/.test(d.output));
});

test("another user may read but not change anything", async (d) => {
  const asNobody = (...args: string[]) =>
    runUpkeepAsNobody(["initctl", "--socket", d.socket, ...args]);
  await d.initctl("start", "web");
  const status = await asNobody("status", "web");
  assertEquals(status.code, 0, status.stderr);
  assertMatch(status.stdout, /^web start\/running, process \d+$/m);
  const stop = await asNobody("stop", "web");
  assertEquals(stop.code, 1);
  assertEquals(stop.stderr.trim(), "initctl: You do not have permission to modify job: web");
  const emit = await asNobody("emit", "foo");
  assertEquals(emit.code, 1);
  assertMatch(emit.stderr, /^initctl: Permission denied/);
  await d.waitRunning("web");
});

test("garbage, half and huge requests get an error or are dropped; the daemon lives on", async (d) => {
  await d.initctl("start", "web");
  const pid = await d.waitRunning("web");
  const send = async (bytes: Uint8Array, closeEarly = false) => {
    const conn = await Deno.connect({ transport: "unix", path: d.socket });
    try {
      await conn.write(bytes).catch(() => 0);
      if (closeEarly) return "";
      const buf = new Uint8Array(4096);
      const n = await conn.read(buf).catch(() => null);
      return n ? new TextDecoder().decode(buf.subarray(0, n)) : "";
    } finally {
      conn.close();
    }
  };
  const enc = new TextEncoder();
  assertMatch(await send(enc.encode("hello\n")), /"ok":false/);
  assertMatch(await send(enc.encode('{"v":99,"cmd":"list","args":[]}\n')), /unsupported protocol/);
  await send(enc.encode('{"v":1,"cmd":"sta'), true);
  assertMatch(await send(new Uint8Array(2 * 1024 * 1024).fill(0x61)), /too large|^$/);
  assertEquals(await d.mainPid("web"), pid);
});

Deno.test("initctl without a daemon says so within a second", async () => {
  const t0 = performance.now();
  const r = await runUpkeep(["initctl", "--socket", "/nonexistent/upkeep.sock", "status", "x"]);
  assertEquals(r.code, 1);
  assertMatch(r.stderr, /^initctl: Unable to connect to upkeep: /);
  assert(performance.now() - t0 < 5000);
});

test("the program name selects the command, as Upstart's symlinks do", async (d) => {
  const [cmd, ...pre] = upkeepArgv();
  const as = async (name: string, ...args: string[]) => {
    const out = await new Deno.Command(cmd!, {
      args: [...pre, ...args],
      env: { UPKEEP_ARGV0: name, UPKEEP_SOCKET: d.socket },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, out: dec.decode(out.stdout), err: dec.decode(out.stderr) };
  };
  const s = await as("start", "web");
  assertMatch(s.out, /^web start\/running, process \d+$/m);
  const st = await as("status", "nope");
  assertEquals(st.err.trim(), "status: Unknown job: nope");
  const ic = await as("initctl", "status", "web");
  assertMatch(ic.out, /^web start\/running/);
  await waitFor(async () => (await as("stop", "web")).code === 0, "stop via name");
});
