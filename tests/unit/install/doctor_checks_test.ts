import assert from "node:assert/strict";
import {
  formatReport,
  jobChecks,
  logDirCheck,
  parseDf,
  respawnLimitedFromLog,
} from "../../../lib/install/doctor_checks.ts";

const running = { name: "web", goal: "start", state: "running", respawns: 0, lastExit: null };

Deno.test("jobChecks() is quiet about running jobs and cleanly stopped ones", () => {
  const stopped = { name: "task", goal: "stop", state: "waiting", lastExit: { status: 0 } };
  assert.deepEqual(jobChecks([running, stopped], new Set()), []);
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
  const [c] = jobChecks([crashed], new Set());
  assert.equal(c?.status, "problem");
  assert.equal(c?.name, "job worker (2)");
  assert.match(c?.detail ?? "", /stopped after failing: killed by SEGV after 3 respawns/);
});

Deno.test("jobChecks() names the respawn limit when the log says so", () => {
  const j = { name: "flappy", goal: "stop", state: "waiting", lastExit: { status: 1 } };
  const [c] = jobChecks([j], new Set(["flappy"]));
  assert.match(c?.detail ?? "", /respawn limit.*last exit status 1/);
});

Deno.test("jobChecks() reports an unhealthy running job", () => {
  const j = { ...running, health: { healthy: false, failures: 3, detail: "HTTP 503" } };
  assert.match(jobChecks([j], new Set())[0]?.detail ?? "", /unhealthy: 3 failures: HTTP 503/);
});

Deno.test("respawnLimitedFromLog() forgets a job that was started again", () => {
  const log = [
    "2025-01-01T00:00:00Z flappy respawning too fast, stopped",
    "2025-01-01T00:00:01Z web (8080) respawning too fast, stopped",
    "2025-01-01T00:00:01Z web (8080) goal changed from start to stop",
    "2025-01-01T00:00:02Z flappy goal changed from stop to start",
  ].join("\n");
  assert.deepEqual([...respawnLimitedFromLog(log)], ["web (8080)"]);
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
