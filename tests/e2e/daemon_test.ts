/**
 * End-to-end: the real daemon on real processes. Each test starts its own daemon in a temp dir,
 * drives it through the real socket and CLI, and leaves nothing behind.
 */

import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { daemonTest, jobProcesses, newMainPid } from "./daemon_helpers.ts";
import { pidAlive, waitFor } from "./helpers.ts";

daemonTest("the seed's delayed_job-style job comes back after kill -9", {
  worker: `# Start when system enters runlevel 2 (multi-user mode).
start on runlevel 2
exec sleep 1000
respawn
respawn limit 10 90
`,
}, async (d) => {
  const first = await d.waitRunning("worker");
  Deno.kill(first, "SIGKILL");
  const second = await newMainPid(d, "worker", first);
  assert(pidAlive(second));
  assertMatch(d.output, /worker main process \(\d+\) killed by KILL signal/);
  assertMatch(d.output, /worker main process ended, respawning/);
});

daemonTest("a crash loop hits respawn limit and stays stopped", {
  crasher: "respawn\nrespawn limit 3 60\nexec false\n",
}, async (d) => {
  const r = await d.initctl("start", "crasher");
  assertEquals(r.code, 0);
  await d.waitStatus("crasher", /^crasher stop\/waiting$/m);
  await waitFor(() => /crasher respawning too fast, stopped/.test(d.output), "too fast");
  assertEquals((d.output.match(/crasher main process ended, respawning/g) ?? []).length, 3);
});

daemonTest("normal exit 0 TERM: a TERM death is not respawned", {
  svc: "respawn\nnormal exit 0 TERM\nexec sleep 1000\n",
}, async (d) => {
  await d.initctl("start", "svc");
  const pid = await d.waitRunning("svc");
  Deno.kill(pid, "SIGTERM");
  await d.waitStatus("svc", /^svc stop\/waiting$/m);
  assert(!/svc main process ended, respawning/.test(d.output));
});

daemonTest("a failing pre-start stops the start with RESULT=failed", {
  bad: "pre-start exec false\nexec sleep 1000\n",
  watcher: `start on stopped bad RESULT=failed PROCESS=pre-start
task
exec sh -c 'echo "$JOB $RESULT $PROCESS $EXIT_STATUS" > ${"$"}{OUT}'
`,
}, async (d) => {
  const r = await d.initctl("start", "bad");
  assertEquals(r.code, 1);
  assertEquals(r.stderr.trim(), "initctl: Job failed to start");
  await d.waitStatus("bad", /^bad stop\/waiting$/m);
});

daemonTest("post-stop runs after the main process", {
  job: `exec sleep 1000
post-stop script
  echo post-stop ran with $UPSTART_JOB
end script
`,
}, async (d) => {
  await d.initctl("start", "job");
  await d.waitRunning("job");
  const r = await d.initctl("stop", "job");
  assertEquals(r.stdout.trim(), "job stop/waiting");
  await d.waitLog("job.log", /post-stop ran with job/);
});

daemonTest("start on started / stop on stopping chain jobs", {
  db: "exec sleep 1000\n",
  app: "start on started db\nstop on stopping db\nexec sleep 1000\n",
}, async (d) => {
  await d.initctl("start", "db");
  await d.waitRunning("app");
  await d.initctl("stop", "db");
  await d.waitStatus("app", /^app stop\/waiting$/m);
});

daemonTest("a task runs to completion and start waits for it", {
  once: "task\nexec sh -c 'echo done'\n",
}, async (d) => {
  const r = await d.initctl("start", "once");
  assertEquals(r.code, 0);
  assertEquals(r.stdout.trim(), "once stop/waiting");
  await d.waitLog("once.log", /^done$/m);
});

daemonTest("instances run side by side with their own state and log", {
  worker: "instance $N\nexec sh -c 'echo worker $N; exec sleep 1000'\n",
}, async (d) => {
  const a = await d.initctl("start", "worker", "N=1");
  const b = await d.initctl("start", "worker", "N=2");
  assertMatch(a.stdout, /^worker \(1\) start\/running, process \d+$/m);
  assertMatch(b.stdout, /^worker \(2\) start\/running, process \d+$/m);
  const dup = await d.initctl("start", "worker", "N=1");
  assertEquals(dup.stderr.trim(), "initctl: Job is already running: worker (1)");
  await waitFor(() => /worker 2/.test(d.readLog("worker-2.log")), "instance log");
  const stop = await d.initctl("stop", "worker", "N=1");
  // As Upstart: the stopped instance is gone, its line has no instance name.
  assertEquals(stop.stdout.trim(), "worker stop/waiting");
  const list = await d.initctl("list");
  assertMatch(list.stdout, /^worker \(2\) start\/running, process \d+$/m);
});

daemonTest("expect daemon follows a double-forking daemon", {
  // Two forks: the subshell, then the background sleep (dash's vfork of a simple command would not
  // count, as in Upstart).
  forker: `expect daemon
exec sh -c '(sleep 1000 </dev/null >/dev/null 2>&1 &) ; exit 0'
`,
}, async (d) => {
  await d.initctl("start", "forker");
  const pid = await d.waitRunning("forker");
  const cmd = Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
  assertMatch(cmd, /sleep 1000/);
  Deno.kill(pid, "SIGKILL");
  await d.waitStatus("forker", /^forker stop\/waiting$/m);
});

daemonTest("expect daemon follows a classic fork, setsid, fork daemon", {
  classic: `expect daemon
exec python3 -c 'import os, time; os.fork() and os._exit(0); os.setsid(); time.sleep(0.3); \\
  os.fork() and os._exit(0); os.execvp("sleep", ["sleep", "1000"])'
`,
}, async (d) => {
  await d.initctl("start", "classic");
  const pid = await d.waitRunning("classic");
  assertMatch(Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " "), /^sleep 1000/);
  await d.initctl("stop", "classic");
  assert(!pidAlive(pid));
});

daemonTest("a process that ignores SIGTERM is SIGKILLed after kill timeout", {
  stubborn: "kill timeout 1\nexec sh -c 'trap \"\" TERM; while :; do sleep 0.1; done'\n",
}, async (d) => {
  await d.initctl("start", "stubborn");
  const pid = await d.waitRunning("stubborn");
  const t0 = performance.now();
  const r = await d.initctl("stop", "stubborn");
  assertEquals(r.stdout.trim(), "stubborn stop/waiting");
  assert(performance.now() - t0 >= 900, "waited for the kill timeout");
  assert(!pidAlive(pid));
});

daemonTest("stopping a job whose children fork grandchildren leaves nothing behind", {
  tree: "exec sh -c '(sleep 1000 & sleep 1000 & wait) & sleep 1000 & wait'\n",
}, async (d) => {
  await d.initctl("start", "tree");
  await d.waitRunning("tree");
  const jobs = () => jobProcesses(d.socket).filter((p) => p !== d.process?.pid);
  await waitFor(() => jobs().length >= 5, "the whole tree");
  await d.initctl("stop", "tree");
  assertEquals(jobs(), []);
});

daemonTest("console log captures stdout and stderr", {
  noisy: "task\nscript\n  echo to-stdout\n  echo to-stderr >&2\nend script\n",
}, async (d) => {
  await d.initctl("start", "noisy");
  const log = await d.waitLog("noisy.log", /to-stdout\n[^]*to-stderr\n/);
  assertMatch(log, /to-stdout/);
  assertMatch(log, /to-stderr/);
});

daemonTest("setuid nobody runs the job as nobody", {
  who: "setuid nobody\nexec sleep 1000\n",
}, async (d) => {
  await d.initctl("start", "who");
  const pid = await d.waitRunning("who");
  // The set-up helper drops to nobody just before it execs sleep.
  const status = await waitFor(() => {
    const s = Deno.readTextFileSync(`/proc/${pid}/status`);
    return /^Name:\s+sleep$/m.test(s) ? s : null;
  }, "sleep to exec");
  assertMatch(status, /^Uid:\s+65534\s/m);
});

daemonTest("SIGTERM to the daemon stops every job and leaves no process", {
  a: "start on startup\nexec sleep 1000\n",
  b: "start on startup\nrespawn\nexec sleep 1000\n",
}, async (d) => {
  await d.waitRunning("a");
  await d.waitRunning("b");
  d.process!.kill("SIGTERM");
  const status = await d.process!.status;
  assertEquals(status.code, 0);
  assertEquals(jobProcesses(d.socket), []);
});

daemonTest("a job file added later is picked up without a restart", {}, async (d) => {
  d.writeJob("late", "exec sleep 1000\n");
  await waitFor(async () => (await d.initctl("status", "late")).code === 0, "late job known");
  d.writeJob("broken", "exec\nfrobnicate\n");
  await waitFor(() => /broken\.conf:1: Expected token/.test(d.output), "bad file logged");
  const r = await d.initctl("status", "broken");
  assertEquals(r.stderr.trim(), "initctl: Unknown job: broken");
});

daemonTest("starting blocks the job until the jobs it started have finished", {
  app: "exec sh -c 'cat \"$UPKEEP_LOG_DIR/../prep-done\" && exec sleep 1000'\n",
  prep:
    "start on starting app\ntask\nexec sh -c 'sleep 0.3; touch \"$UPKEEP_LOG_DIR/../prep-done\"'\n",
}, async (d) => {
  const r = await d.initctl("start", "app");
  assertEquals(r.code, 0, r.stderr);
  // app (no respawn) only runs if prep-done existed when it started: prep had finished.
  await d.waitRunning("app");
  assertMatch(d.output, /prep main process \(\d+\) terminated with status 0/);
});

daemonTest("event environment, UPSTART_EVENTS, export and instance $VAR reach the job", {
  svc: `start on deploy
instance $APP
env GREETING=hello
export APP
exec sh -c 'echo "$GREETING $APP $UPSTART_EVENTS $UPSTART_JOB $UPSTART_INSTANCE"; exec sleep 1000'
`,
  seen: "start on started svc\ntask\nexec sh -c 'echo \"JOB=$JOB INSTANCE=$INSTANCE APP=$APP\"'\n",
}, async (d) => {
  const r = await d.initctl("emit", "deploy", "APP=shop");
  assertEquals(r.code, 0, r.stderr);
  await d.waitRunning("svc", "APP=shop");
  await waitFor(() => d.readLog("svc-shop.log").includes("hello shop deploy svc shop"), "job env");
  await waitFor(() => d.readLog("seen.log").includes("JOB=svc INSTANCE=shop APP=shop"), "export");
});

daemonTest("stop on runlevel [!2345] stops a job started on runlevel [2345]", {
  getty: "start on runlevel [2345]\nstop on runlevel [!2345]\nrespawn\nexec sleep 1000\n",
}, async (d) => {
  await d.waitRunning("getty");
  await d.initctl("emit", "runlevel", "RUNLEVEL=0", "PREVLEVEL=2");
  await d.waitStatus("getty", /^getty stop\/waiting$/);
  await d.initctl("emit", "runlevel", "RUNLEVEL=3", "PREVLEVEL=0");
  await d.waitRunning("getty");
});

daemonTest("SIGHUP and reload-configuration reload job files", {
  a: "exec sleep 1000\n",
}, async (d) => {
  d.writeJob("b", "exec sleep 1000\n");
  d.process!.kill("SIGHUP");
  await waitFor(async () => (await d.initctl("status", "b")).code === 0, "b after SIGHUP");
  Deno.removeSync(`${d.conf}/b.conf`);
  const r = await d.initctl("reload-configuration");
  assertEquals(r.code, 0);
  await waitFor(async () => (await d.initctl("status", "b")).code === 1, "b gone");
});

daemonTest("env, chdir, umask, nice, limit and oom score take effect in the job's process", {
  settings: `env COLOUR=blue
chdir /tmp
umask 027
nice 5
limit nofile 1234 2345
limit core 0 unlimited
oom score 500
exec sleep 1000
`,
}, async (d) => {
  await d.initctl("start", "settings");
  const pid = await d.waitRunning("settings");
  // The set-up helper applies these stanzas, then execs sleep (same pid).
  await waitFor(
    () => /^Name:\s+sleep$/m.test(Deno.readTextFileSync(`/proc/${pid}/status`)),
    "exec",
  );
  const environ = Deno.readTextFileSync(`/proc/${pid}/environ`).split("\0");
  assert(environ.includes("COLOUR=blue"));
  assert(environ.includes("UPSTART_JOB=settings"));
  assertEquals(Deno.readLinkSync(`/proc/${pid}/cwd`), "/tmp");
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  assertMatch(status, /^Umask:\s+0027$/m);
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  assertEquals(fields[16], "5"); // nice (field 19 of stat)
  assertEquals(fields[2], String(pid)); // own process group
  assertEquals(fields[3], String(pid)); // own session
  const limits = Deno.readTextFileSync(`/proc/${pid}/limits`);
  assertMatch(limits, /^Max open files\s+1234\s+2345\s+files/m);
  assertMatch(limits, /^Max core file size\s+0\s+unlimited\s+bytes/m);
  assertEquals(Deno.readTextFileSync(`/proc/${pid}/oom_score_adj`).trim(), "500");
});

daemonTest("console none writes no log; console log appends across runs", {
  quiet: "console none\ntask\nexec echo hidden\n",
  loud: "task\nexec echo shown\n",
}, async (d) => {
  await d.initctl("start", "quiet");
  await d.initctl("start", "loud");
  await d.initctl("start", "loud");
  assertEquals(d.readLog("quiet.log"), "");
  assertEquals(await d.waitLog("loud.log", /^shown\nshown\n/), "shown\nshown\n");
});
