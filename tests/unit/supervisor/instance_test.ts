/**
 * step(): the instance state machine, driven by inputs with a fake clock and no processes.
 */

import { deepStrictEqual as assertEquals, match as assertMatch } from "node:assert/strict";
import { defaultJob, type JobClass } from "../../../lib/job/model.ts";
import {
  describeExitStatus,
  type Effect,
  type ExitStatus,
  type Input,
  type InstanceState,
  newInstance,
  nextState,
  type State,
  step,
  TRANSITIONS,
} from "../../../lib/supervisor/instance.ts";

function job(over: Partial<JobClass> = {}): JobClass {
  return { ...defaultJob("svc", ""), main: { exec: "/bin/sleep 1000" }, ...over };
}

/** Run inputs in order; answer spawn effects with pids and blocking emits with eventFinished. */
function drive(
  j: JobClass,
  inputs: Input[],
  opts: { autoFinishEvents?: boolean; now?: number[]; execPending?: boolean } = {},
): { st: InstanceState; effects: Effect[]; states: State[] } {
  let st = newInstance(0);
  const effects: Effect[] = [];
  const states: State[] = [];
  let nextPid = 100;
  const queue: [Input, boolean][] = inputs.map((i) => [i, true]);
  let t = 0;
  let now = 0;
  while (queue.length) {
    const [input, fromUser] = queue.shift()!;
    if (fromUser) now = opts.now?.[t++] ?? now;
    const r = step(j, "", st, input, now);
    st = r.instance;
    const replies: Input[] = [];
    for (const e of r.effects) {
      effects.push(e);
      if (e.type === "log") {
        const m = /state changed from \S+ to (\S+)/.exec(e.message);
        if (m) states.push(m[1] as State);
      }
      if (e.type === "spawn") {
        const execPending = opts.execPending === true && e.kind === "main";
        replies.push({ type: "spawned", kind: e.kind, pid: nextPid++, execPending });
      }
      if (e.type === "emit" && e.blocking && opts.autoFinishEvents !== false) {
        replies.push({ type: "eventFinished" });
      }
    }
    queue.unshift(...replies.map((i): [Input, boolean] => [i, false]));
  }
  return { st, effects, states };
}

Deno.test("nextState() follows Upstart's goal x state table", () => {
  const table: [State, "start" | "stop" | "respawn", boolean, State][] = [
    ["waiting", "start", false, "starting"],
    ["starting", "start", false, "pre-start"],
    ["starting", "stop", false, "stopping"],
    ["pre-start", "start", false, "spawned"],
    ["pre-start", "stop", false, "stopping"],
    ["spawned", "start", true, "post-start"],
    ["post-start", "start", true, "running"],
    ["post-start", "respawn", false, "stopping"],
    ["running", "stop", true, "pre-stop"],
    ["running", "stop", false, "stopping"],
    ["running", "start", false, "stopping"],
    ["pre-stop", "start", true, "running"],
    ["pre-stop", "stop", true, "stopping"],
    ["stopping", "stop", false, "killed"],
    ["killed", "stop", false, "post-stop"],
    ["post-stop", "stop", false, "waiting"],
    ["post-stop", "start", false, "starting"],
  ];
  for (const [state, goal, alive, expected] of table) {
    assertEquals(nextState(state, goal, alive).state, expected, `${state} + ${goal}`);
  }
  assertEquals(nextState("running", "respawn", false).goal, "start");
});

Deno.test("step() moves a started service through every state to running", () => {
  const j = job({ preStart: { exec: "true" }, postStart: { exec: "true" } });
  const r = drive(j, [{ type: "goal", goal: "start" }]);
  // pre-start and post-start wait for their processes to exit.
  assertEquals(r.states, ["starting", "pre-start"]);
  const r2 = drive(j, [
    { type: "goal", goal: "start" },
    { type: "exited", kind: "preStart", status: { code: 0, signal: null } },
    { type: "exited", kind: "postStart", status: { code: 0, signal: null } },
  ]);
  assertEquals(r2.states, ["starting", "pre-start", "spawned", "post-start", "running"]);
  assertEquals(r2.st.goal, "start");
  assertEquals(r2.st.pids.main, 101);
  const emitted = r2.effects.filter((e) => e.type === "emit").map((e) =>
    e.type === "emit" && e.event
  );
  assertEquals(emitted, ["starting", "started"]);
});

Deno.test("step() stops a running service: pre-stop, stopping, killed, post-stop, waiting", () => {
  const j = job({ preStop: { exec: "true" }, postStop: { exec: "true" } });
  const r = drive(j, [
    { type: "goal", goal: "start" },
    { type: "goal", goal: "stop" },
    { type: "exited", kind: "preStop", status: { code: 0, signal: null } },
    { type: "exited", kind: "main", status: { code: null, signal: "TERM" } },
    { type: "exited", kind: "postStop", status: { code: 0, signal: null } },
  ]);
  assertEquals(r.states.slice(-6), [
    "running",
    "pre-stop",
    "stopping",
    "killed",
    "post-stop",
    "waiting",
  ]);
  const kill = r.effects.find((e) => e.type === "kill");
  assertEquals(kill, { type: "kill", pid: 100, signal: "TERM" });
  assertEquals(r.effects.at(-1), { type: "destroy" });
});

Deno.test("step() respawns a service whose main process exits, even with status 0", () => {
  const j = job({ respawn: true });
  const r = drive(j, [
    { type: "goal", goal: "start" },
    { type: "exited", kind: "main", status: { code: 0, signal: null } },
  ]);
  assertEquals(r.st.state, "running");
  assertEquals(r.st.goal, "start");
  assertEquals(r.st.pids.main, 101);
  assertEquals(r.st.respawns, 1);
  const logs = r.effects.filter((e) => e.type === "log").map((e) => e.type === "log" && e.message);
  assertEquals(logs.includes("svc main process ended, respawning"), true);
});

Deno.test("step() does not respawn a normal exit", () => {
  const j = job({ respawn: true, normalExit: [0, "TERM"] });
  for (const status of [{ code: 0, signal: null }, { code: null, signal: "TERM" }]) {
    const r = drive(j, [{ type: "goal", goal: "start" }, { type: "exited", kind: "main", status }]);
    assertEquals(r.st.state, "waiting");
    const stopped = r.effects.find((e) => e.type === "emit" && e.event === "stopped");
    assertEquals(stopped?.type === "emit" && stopped.env, [["JOB", "svc"], ["INSTANCE", ""], [
      "RESULT",
      "ok",
    ]]);
  }
});

Deno.test("step() stops after more than COUNT respawns within INTERVAL (respawn limit)", () => {
  const j = job({ respawn: true, respawnLimit: { count: 2, interval: 5 } });
  const died: Input = { type: "exited", kind: "main", status: { code: 1, signal: null } };
  const r = drive(j, [{ type: "goal", goal: "start" }, died, died, died], {
    now: [0, 1000, 2000, 3000],
  });
  assertEquals(r.st.state, "waiting");
  assertEquals(r.st.respawns, 2);
  const stopped = r.effects.find((e) => e.type === "emit" && e.event === "stopped");
  assertEquals(stopped?.type === "emit" && stopped.env, [
    ["JOB", "svc"],
    ["INSTANCE", ""],
    ["RESULT", "failed"],
    ["PROCESS", "respawn"],
  ]);
  assertEquals(r.effects.some((e) => e.type === "respawnLimit"), true);
});

Deno.test("step() opens a new respawn window once INTERVAL has passed", () => {
  const j = job({ respawn: true, respawnLimit: { count: 1, interval: 5 } });
  const died: Input = { type: "exited", kind: "main", status: { code: 1, signal: null } };
  const r = drive(j, [{ type: "goal", goal: "start" }, died, died, died], {
    now: [0, 1000, 7000, 13000],
  });
  assertEquals(r.st.state, "running");
  assertEquals(r.st.respawns, 3);
});

Deno.test("step() fails the start when pre-start fails (RESULT=failed PROCESS=pre-start)", () => {
  const j = job({ preStart: { exec: "false" } });
  const r = drive(j, [
    { type: "goal", goal: "start" },
    { type: "exited", kind: "preStart", status: { code: 3, signal: null } },
  ]);
  assertEquals(r.st.state, "waiting");
  assertEquals(r.effects.filter((e) => e.type === "spawn").length, 1);
  const stopping = r.effects.find((e) => e.type === "emit" && e.event === "stopping");
  assertEquals(stopping?.type === "emit" && stopping.env.slice(2), [
    ["RESULT", "failed"],
    ["PROCESS", "pre-start"],
    ["EXIT_STATUS", "3"],
  ]);
  assertEquals(r.effects.some((e) => e.type === "finished" && e.failed), true);
});

Deno.test("step() reports a main killed by a signal as EXIT_SIGNAL", () => {
  const j = job();
  const r = drive(j, [
    { type: "goal", goal: "start" },
    { type: "exited", kind: "main", status: { code: null, signal: "SEGV" } },
  ]);
  const stopped = r.effects.find((e) => e.type === "emit" && e.event === "stopped");
  assertEquals(stopped?.type === "emit" && stopped.env.slice(2), [
    ["RESULT", "failed"],
    ["PROCESS", "main"],
    ["EXIT_SIGNAL", "SEGV"],
  ]);
});

Deno.test("describeExitStatus() words a process end as Upstart logs it", () => {
  assertEquals(describeExitStatus({ code: 3, signal: null }), "terminated with status 3");
  assertEquals(describeExitStatus({ code: null, signal: "SEGV" }), "killed by SEGV signal");
  // A signal without a name (a real-time one): Upstart says `killed by signal 64`.
  assertEquals(describeExitStatus({ code: null, signal: "64" }), "killed by signal 64");
});

Deno.test("step() finishes a task only when it has stopped", () => {
  const j = job({ task: true, main: { exec: "true" } });
  const r = drive(j, [{ type: "goal", goal: "start" }]);
  assertEquals(r.st.state, "running");
  assertEquals(r.effects.some((e) => e.type === "finished"), false);
  const r2 = drive(j, [
    { type: "goal", goal: "start" },
    { type: "exited", kind: "main", status: { code: 0, signal: null } },
  ]);
  assertEquals(r2.st.state, "waiting");
  assertEquals(r2.effects.filter((e) => e.type === "finished"), [{
    type: "finished",
    failed: false,
  }]);
});

Deno.test("step() arms the kill timer and sends SIGKILL when it fires", () => {
  const j = job({ killTimeout: 2, killSignal: "INT" });
  const r = drive(j, [
    { type: "goal", goal: "start" },
    { type: "goal", goal: "stop" },
    { type: "killTimeout" },
  ]);
  assertEquals(r.st.state, "killed");
  const kills = r.effects.filter((e) => e.type === "kill");
  assertEquals(kills, [{ type: "kill", pid: 100, signal: "INT" }, {
    type: "kill",
    pid: 100,
    signal: "KILL",
  }]);
  assertEquals(r.effects.some((e) => e.type === "armTimer" && e.seconds === 2), true);
});

Deno.test("step() waits in spawned for the two forks of expect daemon, then runs the daemon", () => {
  const j = job({ expect: "daemon" });
  const r = drive(j, [
    { type: "goal", goal: "start" },
    { type: "forked", pid: 200, final: false },
  ]);
  assertEquals(r.st.state, "spawned");
  assertEquals(r.st.pids.main, 200);
  assertEquals(r.effects.some((e) => e.type === "armTimer" && e.timer === "expect"), true);
  const r2 = drive(j, [
    { type: "goal", goal: "start" },
    { type: "forked", pid: 200, final: false },
    { type: "forked", pid: 300, final: true },
  ]);
  assertEquals(r2.st.state, "running");
  assertEquals(r2.st.pids.main, 300);
  assertEquals(r2.effects.some((e) => e.type === "cancelTimer" && e.timer === "expect"), true);
});

Deno.test("step() treats a main that exits before forking (expect fork) as an ordinary end", () => {
  const j = job({ expect: "fork" });
  const r = drive(j, [
    { type: "goal", goal: "start" },
    { type: "exited", kind: "main", status: { code: 0, signal: null } },
  ]);
  assertEquals(r.st.state, "waiting");
  assertEquals(r.st.failure, null);
  const respawning = drive(job({ expect: "fork", respawn: true }), [
    { type: "goal", goal: "start" },
    { type: "exited", kind: "main", status: { code: 1, signal: null } },
  ]);
  assertEquals(respawning.st.respawns, 1);
});

Deno.test("step() waits in spawned until a set-up helper exec'd the main program", () => {
  const r = drive(job(), [{ type: "goal", goal: "start" }], { execPending: true });
  assertEquals([r.st.state, r.st.execPending, r.st.pids.main], ["spawned", true, 100]);
  const other = step(job(), "", r.st, { type: "execed", pid: 999 }, 0).instance;
  assertEquals(other.state, "spawned");
  const execed = drive(job(), [{ type: "goal", goal: "start" }, { type: "execed", pid: 100 }], {
    execPending: true,
  });
  assertEquals([execed.st.state, execed.st.execPending], ["running", false]);
  // A stop while it waits takes effect once it exec'd, as a stop during Upstart's spawn.
  const stopped = drive(job(), [
    { type: "goal", goal: "start" },
    { type: "goal", goal: "stop" },
    { type: "execed", pid: 100 },
  ], { execPending: true });
  assertEquals([stopped.st.state, stopped.st.goal], ["killed", "stop"]);
  // expect fork: the fork also says it exec'd.
  const forked = drive(job({ expect: "fork" }), [
    { type: "goal", goal: "start" },
    { type: "forked", pid: 200, final: true },
  ], { execPending: true });
  assertEquals([forked.st.state, forked.st.pids.main, forked.st.execPending], [
    "running",
    200,
    false,
  ]);
});

Deno.test("step() fails the start when the set-up helper cannot exec the main program", () => {
  const r = drive(job(), [
    { type: "goal", goal: "start" },
    { type: "spawnFailed", kind: "main", error: "cannot run /x: No such file or directory" },
  ], { execPending: true });
  assertEquals([r.st.state, r.st.goal, r.st.execPending], ["waiting", "stop", false]);
  assertEquals(r.st.failure, {
    process: "main",
    exit: null,
    error: "cannot run /x: No such file or directory",
  });
  assertEquals(r.effects.some((e) => e.type === "finished" && e.failed), true);
  // expect fork: the wait for the fork ends with it.
  const f = drive(job({ expect: "fork" }), [
    { type: "goal", goal: "start" },
    { type: "spawnFailed", kind: "main", error: "x" },
  ], { execPending: true });
  assertEquals(f.st.state, "waiting");
  assertEquals(f.effects.some((e) => e.type === "cancelTimer" && e.timer === "expect"), true);
});

Deno.test("step() fails the start when the expected fork does not come in time", () => {
  const j = job({ expect: "fork" });
  const r = drive(j, [
    { type: "goal", goal: "start" },
    { type: "expectTimeout" },
  ]);
  assertEquals(r.st.state, "killed");
  assertEquals(r.st.goal, "stop");
  assertEquals(r.st.failure, {
    process: "main",
    exit: null,
    error: "did not fork (expect fork) within 10 s",
  });
  assertEquals(r.effects.some((e) => e.type === "kill" && e.pid === 100), true);
  assertMatch(
    r.effects.map((e) => e.type === "log" ? e.message : "").join("\n"),
    /svc main process \(100\) did not fork \(expect fork\) within 10 s/,
  );
});

Deno.test("step() lets a stop wait for the fork (as Upstart), then kills the daemon", () => {
  const j = job({ expect: "fork" });
  const stopping = drive(j, [{ type: "goal", goal: "start" }, { type: "goal", goal: "stop" }]);
  assertEquals([stopping.st.goal, stopping.st.state], ["stop", "spawned"]);
  const r = drive(j, [
    { type: "goal", goal: "start" },
    { type: "goal", goal: "stop" },
    { type: "forked", pid: 200, final: true },
  ]);
  assertEquals(r.st.state, "killed");
  assertEquals(r.st.pids.main, 200);
  assertEquals(r.effects.filter((e) => e.type === "kill").map((e) => e.type === "kill" && e.pid), [
    200,
  ]);
});

Deno.test("step() wakes an expect stop job with SIGCONT once it has stopped itself", () => {
  const j = job({ expect: "stop" });
  const waiting = drive(j, [{ type: "goal", goal: "start" }]);
  assertEquals(waiting.st.state, "spawned");
  const r = drive(j, [{ type: "goal", goal: "start" }, { type: "stopped" }]);
  assertEquals(r.st.state, "running");
  assertEquals(
    r.effects.some((e) => e.type === "signal" && e.signal === "CONT" && e.pid === 100),
    true,
  );
  const late = drive(j, [{ type: "goal", goal: "start" }, { type: "expectTimeout" }]);
  assertMatch(
    late.effects.map((e) => e.type === "log" ? e.message : "").join("\n"),
    /did not stop itself \(expect stop\) within 10 s/,
  );
});

Deno.test("step() waits in post-stop for the respawn delay when one is set", () => {
  const j = job({ respawn: true });
  let st = drive(j, [{ type: "goal", goal: "start" }]).st;
  st = { ...st, respawnDelay: 2 };
  const r = step(j, "", st, { type: "exited", kind: "main", status: { code: 1, signal: null } }, 0);
  // stopping waits on its event.
  const r2 = step(j, "", r.instance, { type: "eventFinished" }, 0);
  assertEquals(r2.instance.state, "post-stop");
  assertEquals(r2.effects.some((e) => e.type === "armTimer" && e.timer === "respawn"), true);
  const r3 = step(j, "", r2.instance, { type: "respawnDelayOver" }, 2000);
  assertEquals(r3.instance.state, "starting");
});

Deno.test("step() logs goal and state changes in Upstart's words", () => {
  const r = drive(job(), [{ type: "goal", goal: "start" }]);
  const logs = r.effects.filter((e) => e.type === "log").map((e) =>
    e.type === "log" ? e.message : ""
  );
  assertMatch(logs[0]!, /^svc goal changed from stop to start$/);
  assertMatch(logs[1]!, /^svc state changed from waiting to starting$/);
});

Deno.test("step() stops what a main process left in its group before it respawns", () => {
  const j = job({ respawn: true });
  const crashed = drive(j, [
    { type: "goal", goal: "start" },
    { type: "exited", kind: "main", status: { code: 1, signal: null }, strays: 100 },
  ]);
  assertEquals([crashed.st.goal, crashed.st.state], ["start", "killed"]);
  assertEquals(
    crashed.effects.some((e) => e.type === "killGroup" && e.pgid === 100 && e.signal === "TERM"),
    true,
  );
  const late = drive(j, [
    { type: "goal", goal: "start" },
    { type: "exited", kind: "main", status: { code: 1, signal: null }, strays: 100 },
    { type: "killTimeout" },
  ]);
  assertEquals(
    late.effects.some((e) => e.type === "killGroup" && e.pgid === 100 && e.signal === "KILL"),
    true,
  );
  const gone = drive(j, [
    { type: "goal", goal: "start" },
    { type: "exited", kind: "main", status: { code: 1, signal: null }, strays: 100 },
    { type: "groupGone" },
  ]);
  assertEquals([gone.st.state, gone.st.pids.main, gone.st.strays], ["running", 101, null]);
});

Deno.test("step() keeps a stop in killed until the main process's group is empty", () => {
  const j = job();
  const r = drive(j, [
    { type: "goal", goal: "start" },
    { type: "goal", goal: "stop" },
    { type: "exited", kind: "main", status: { code: null, signal: "TERM" }, strays: 100 },
  ]);
  assertEquals([r.st.goal, r.st.state], ["stop", "killed"]);
  const done = drive(j, [
    { type: "goal", goal: "start" },
    { type: "goal", goal: "stop" },
    { type: "exited", kind: "main", status: { code: null, signal: "TERM" }, strays: 100 },
    { type: "groupGone" },
  ]);
  assertEquals(done.st.state, "waiting");
});

// ------------------------------------------------------------ Upstart's lifecycle, cell by cell

Deno.test("TRANSITIONS: every cell of the goal x state table, read by nextState()", () => {
  const goals = ["start", "stop", "respawn"] as const;
  const states = Object.keys(TRANSITIONS) as State[];
  // [state, goal, main alive] -> [next state, next goal]; null: the machine stays (never happens).
  const expected: Record<string, [State, string] | null> = {
    "waiting/start": ["starting", "start"],
    "waiting/stop": null,
    "waiting/respawn": null,
    "starting/start": ["pre-start", "start"],
    "starting/stop": ["stopping", "stop"],
    "starting/respawn": null,
    "pre-start/start": ["spawned", "start"],
    "pre-start/stop": ["stopping", "stop"],
    "pre-start/respawn": null,
    "spawned/start": ["post-start", "start"],
    "spawned/stop": ["stopping", "stop"],
    "spawned/respawn": ["stopping", "start"],
    "post-start/start": ["running", "start"],
    "post-start/stop": ["stopping", "stop"],
    "post-start/respawn": ["stopping", "start"],
    "running/start": ["stopping", "start"],
    "running/stop": ["pre-stop", "stop"],
    "running/respawn": ["stopping", "start"],
    "pre-stop/start": ["running", "start"],
    "pre-stop/stop": ["stopping", "stop"],
    "pre-stop/respawn": ["stopping", "start"],
    "stopping/start": ["killed", "start"],
    "stopping/stop": ["killed", "stop"],
    "stopping/respawn": null,
    "killed/start": ["post-stop", "start"],
    "killed/stop": ["post-stop", "stop"],
    "killed/respawn": null,
    "post-stop/start": ["starting", "start"],
    "post-stop/stop": ["waiting", "stop"],
    "post-stop/respawn": null,
  };
  for (const state of states) {
    for (const goal of goals) {
      const want = expected[`${state}/${goal}`];
      const got = nextState(state, goal, true);
      const where = `${state} + ${goal}`;
      if (want === null) {
        assertEquals(TRANSITIONS[state][goal], null, where);
        assertEquals(got, { state, goal }, where);
      } else {
        assertEquals([got.state, got.goal], want, where);
      }
    }
  }
  // The one cell that looks at the main process: no pre-stop without a live main process.
  assertEquals(nextState("running", "stop", false).state, "stopping");
});

const ok: ExitStatus = { code: 0, signal: null };
const logged = (effects: Effect[]) =>
  effects.filter((e) => e.type === "log").map((e) => e.type === "log" ? e.message : "");

Deno.test("step() lets a running pre-start end when a stop comes (no kill), then stops", () => {
  const j = job({ preStart: { exec: "x" } });
  const r = drive(j, [{ type: "goal", goal: "start" }, { type: "goal", goal: "stop" }]);
  assertEquals([r.st.goal, r.st.state, r.st.pids.preStart], ["stop", "pre-start", 100]);
  assertEquals(r.effects.some((e) => e.type === "kill" || e.type === "armTimer"), false);
  const r2 = drive(j, [
    { type: "goal", goal: "start" },
    { type: "goal", goal: "stop" },
    { type: "exited", kind: "preStart", status: ok },
  ]);
  assertEquals(r2.states.slice(-4), ["stopping", "killed", "post-stop", "waiting"]);
  assertEquals(r2.effects.some((e) => e.type === "spawn" && e.kind === "main"), false);
  assertEquals(r2.effects.some((e) => e.type === "finished" && e.failed), false);
});

Deno.test("step() fails the job when its pre-start fails after a stop was asked for", () => {
  const j = job({ preStart: { exec: "x" } });
  const r = drive(j, [
    { type: "goal", goal: "start" },
    { type: "goal", goal: "stop" },
    { type: "exited", kind: "preStart", status: { code: 1, signal: null } },
  ]);
  assertEquals(r.st.state, "waiting");
  assertEquals(r.st.failure, { process: "pre-start", exit: { code: 1, signal: null } });
});

Deno.test("step() lets a running post-start end when a stop comes, then stops", () => {
  const j = job({ postStart: { exec: "x" } });
  const r = drive(j, [{ type: "goal", goal: "start" }, { type: "goal", goal: "stop" }]);
  assertEquals([r.st.goal, r.st.state], ["stop", "post-start"]);
  assertEquals(r.effects.some((e) => e.type === "kill"), false);
  const r2 = drive(j, [
    { type: "goal", goal: "start" },
    { type: "goal", goal: "stop" },
    { type: "exited", kind: "postStart", status: ok },
  ]);
  assertEquals(r2.states.slice(-2), ["stopping", "killed"]);
  assertEquals(r2.effects.filter((e) => e.type === "kill"), [{
    type: "kill",
    pid: 100,
    signal: "TERM",
  }]);
});

Deno.test("step() waits for post-start when main ends during it (goal stop, no failure twice)", () => {
  const j = job({ postStart: { exec: "x" } });
  const r = drive(j, [
    { type: "goal", goal: "start" },
    { type: "exited", kind: "main", status: { code: 2, signal: null } },
  ]);
  assertEquals([r.st.goal, r.st.state, r.st.pids.main], ["stop", "post-start", undefined]);
  assertEquals(r.st.failure, { process: "main", exit: { code: 2, signal: null } });
  const r2 = drive(j, [
    { type: "goal", goal: "start" },
    { type: "exited", kind: "main", status: { code: 2, signal: null } },
    { type: "exited", kind: "postStart", status: ok },
  ]);
  assertEquals(r2.st.state, "waiting");
});

Deno.test("step() shows goal respawn while a post-start runs after main ended, then respawns", () => {
  const j = job({ respawn: true, postStart: { exec: "x" } });
  const r = drive(j, [
    { type: "goal", goal: "start" },
    { type: "exited", kind: "main", status: { code: null, signal: "KILL" } },
  ]);
  assertEquals([r.st.goal, r.st.state], ["respawn", "post-start"]);
  const r2 = drive(j, [
    { type: "goal", goal: "start" },
    { type: "exited", kind: "main", status: { code: null, signal: "KILL" } },
    { type: "exited", kind: "postStart", status: ok },
  ]);
  // stopping, killed, post-stop, starting … back to post-start with a new main process.
  assertEquals(r2.states.slice(-7), [
    "stopping",
    "killed",
    "post-stop",
    "starting",
    "pre-start",
    "spawned",
    "post-start",
  ]);
  assertEquals([r2.st.goal, r2.st.pids.main], ["start", 102]);
  assertEquals(r2.st.failure, null);
});

Deno.test("step() waits for pre-stop when main ends during it", () => {
  const j = job({ preStop: { exec: "x" } });
  const r = drive(j, [
    { type: "goal", goal: "start" },
    { type: "goal", goal: "stop" },
    { type: "exited", kind: "main", status: { code: null, signal: "TERM" } },
  ]);
  assertEquals([r.st.goal, r.st.state, r.st.pids.preStop], ["stop", "pre-stop", 101]);
  assertEquals(r.st.failure, null);
  const r2 = drive(j, [
    { type: "goal", goal: "start" },
    { type: "goal", goal: "stop" },
    { type: "exited", kind: "main", status: { code: null, signal: "TERM" } },
    { type: "exited", kind: "preStop", status: ok },
  ]);
  assertEquals(r2.st.state, "waiting");
  assertEquals(r2.effects.some((e) => e.type === "kill"), false);
});

Deno.test("step() ignores a main process ending while stopping waits on its event", () => {
  const j = job({ respawn: true });
  let st = drive(j, [{ type: "goal", goal: "start" }]).st;
  // restart: goal stop then start; stopping is held by another job (event not finished).
  let r = step(j, "", st, { type: "restart" }, 0);
  st = r.instance;
  assertEquals([st.goal, st.state], ["start", "stopping"]);
  r = step(j, "", st, { type: "exited", kind: "main", status: { code: null, signal: "KILL" } }, 0);
  st = r.instance;
  assertEquals([st.goal, st.state, st.pids.main, st.respawns], ["start", "stopping", undefined, 0]);
  assertEquals(logged([...r.effects]).some((m) => /respawning|goal changed/.test(m)), false);
  r = step(j, "", st, { type: "eventFinished" }, 0);
  // killed (nothing to kill) → post-stop → starting: a fresh start, goal start.
  assertEquals([r.instance.goal, r.instance.state], ["start", "starting"]);
});

Deno.test("step() arms no kill timer for a running pre-start on a stop (only on shutdown)", () => {
  const j = job({ preStart: { exec: "x" } });
  const r = drive(j, [{ type: "goal", goal: "start" }, { type: "goal", goal: "stop" }]);
  assertEquals(r.effects.some((e) => e.type === "armTimer" && e.timer === "kill"), false);
  const s = drive(j, [{ type: "goal", goal: "start" }, { type: "shutdown" }]);
  assertEquals(s.effects.some((e) => e.type === "armTimer" && e.timer === "kill"), true);
});

Deno.test("step() takes a job back to running when started during its pre-stop", () => {
  const j = job({ preStop: { exec: "x" } });
  const r = drive(j, [
    { type: "goal", goal: "start" },
    { type: "goal", goal: "stop" },
    { type: "goal", goal: "start" },
    { type: "exited", kind: "preStop", status: ok },
  ]);
  assertEquals([r.st.goal, r.st.state, r.st.pids.main], ["start", "running", 100]);
  assertEquals(r.effects.some((e) => e.type === "kill"), false);
});
