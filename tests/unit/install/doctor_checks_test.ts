import assert from "node:assert/strict";
import {
  formatReport,
  jobChecks,
  logDirCheck,
  parseDf,
} from "../../../lib/install/doctor_checks.ts";

const running = { name: "web", goal: "start", state: "running", respawns: 0, lastExit: null };

Deno.test("jobChecks() is quiet about running jobs and cleanly stopped ones", () => {
  const stopped = { name: "task", goal: "stop", state: "waiting", lastExit: { status: 0 } };
  assert.deepEqual(jobChecks([running, stopped]), []);
});

Deno.test("jobChecks() reports a job stopped after failing, with its exit", () => {
  const crashed = {
    name: "worker",
    instance: "2",
    goal: "stop",
    state: "waiting",
    respawns: 3,
    lastExit: { signal: "SEGV" },
  };
  const [c] = jobChecks([crashed]);
  assert.equal(c?.status, "problem");
  assert.equal(c?.name, "job worker (2)");
  assert.match(c?.detail ?? "", /stopped after failing: killed by SEGV after 3 respawns/);
});

Deno.test("jobChecks() says the daemon's last failure and the next try", () => {
  const j = {
    name: "flappy",
    goal: "stop",
    state: "waiting",
    lastExit: { status: 1 },
    lastFailure: { message: "respawning too fast (last: terminated with status 1)", at: "T1" },
    nextTry: "T2",
  };
  const [c] = jobChecks([j]);
  assert.equal(
    c?.detail,
    "stopped after hitting its respawn limit: respawning too fast (last: terminated with status 1) " +
      "(at T1); " +
      "next try at T2",
  );
  const waiting = {
    ...j,
    goal: "start",
    state: "post-stop",
    lastFailure: { message: "x", at: "T" },
  };
  assert.match(jobChecks([waiting])[0]?.detail ?? "", /^failing: x \(at T\); next try at T2$/);
  const recovered = { ...running, lastFailure: { message: "x", at: "T" }, nextTry: null };
  assert.deepEqual(jobChecks([recovered]), []);
});

Deno.test("jobChecks() reports an unhealthy running job", () => {
  const j = { ...running, health: { healthy: false, failures: 3, detail: "HTTP 503" } };
  assert.match(jobChecks([j])[0]?.detail ?? "", /unhealthy: 3 failures: HTTP 503/);
});

Deno.test("parseDf() reads POSIX df -Pk output, mount points with spaces included", () => {
  const out = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n" +
    "/dev/vda1         10000000  9500000    500000      95% /var/my logs\n";
  assert.deepEqual(parseDf(out), {
    mount: "/var/my logs",
    usedPercent: 95,
    availBytes: 500000 * 1024,
    sizeBytes: 10000000 * 1024,
  });
  assert.equal(parseDf("garbage"), null);
});

Deno.test("logDirCheck() fails on an unwritable dir and a nearly full disk", () => {
  assert.equal(logDirCheck("/l", "Permission denied", null).status, "problem");
  const ok = { mount: "/", usedPercent: 40, availBytes: 5e9, sizeBytes: 1e10 };
  assert.equal(logDirCheck("/l", true, ok).status, "ok");
  assert.match(logDirCheck("/l", true, ok).detail, /40% used, 4\.7 GiB free on \//);
  assert.equal(logDirCheck("/l", true, { ...ok, usedPercent: 91 }).status, "problem");
  assert.equal(logDirCheck("/l", true, { ...ok, availBytes: 50e6 }).status, "problem");
  assert.equal(logDirCheck("/l", true, null).status, "warn");
});

Deno.test("formatReport() exits 0 only without problems and lists them at the end", () => {
  const good = formatReport([{ name: "daemon", status: "ok", detail: "running" }]);
  assert.equal(good.code, 0);
  assert.match(good.text, /All is well\.$/);
  const bad = formatReport([
    { name: "daemon", status: "problem", detail: "not running" },
    { name: "log dir", status: "warn", detail: "disk usage unknown" },
  ]);
  assert.equal(bad.code, 1);
  assert.ok(bad.text.endsWith("1 problem:\n  - daemon: not running"), bad.text);
});

Deno.test("jobChecks() reports a job whose log cannot be written, running or not", () => {
  const j = {
    name: "web",
    goal: "start",
    state: "running",
    logError: {
      message: "cannot write log /l/web.log: No space left on device",
      since: "T",
      droppedLines: 12,
      droppedBytes: 345,
    },
  };
  const checks = jobChecks([j, { name: "ok", goal: "start", state: "running", logError: null }]);
  assert.equal(checks.length, 1);
  assert.equal(checks[0]?.name, "job web");
  assert.equal(checks[0]?.status, "problem");
  assert.match(
    checks[0]?.detail ?? "",
    /^its output cannot be logged: cannot write log \/l\/web\.log: No space left on device \(since T; 12 lines dropped so far/,
  );
});
