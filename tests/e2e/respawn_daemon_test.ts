/**
 * End-to-end: crash-loop handling through the real daemon and the real initctl, on real
 * processes: `respawn delay MIN MAX` (the delays double up to MAX, reset after a long run, and a
 * stop during the back-off is immediate) and `respawn retry AFTER` (a job that hit its respawn
 * limit comes back, `respawn-failed` says why, a stop cancels the retry, every instance is
 * retried). Each test runs its own daemon in a temp dir (TestDaemon) and leaves nothing behind.
 */

import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { daemonTest, lines, logged, someLines } from "./daemon_helpers.ts";
import { waitFor } from "./helpers.ts";

/** Seconds between consecutive spawn times recorded (date +%s.%N) in `path`. */
function gaps(path: string): number[] {
  const t = lines(path).map(Number);
  return t.slice(1).map((v, i) => v - t[i]!);
}

function assertGap(actual: number, expected: number, what: string): void {
  ok(
    actual >= expected - 0.03 && actual <= expected + 0.3, // late by load, never early
    `${what}: ${actual.toFixed(3)} s, expected about ${expected} s`,
  );
}

daemonTest(
  "respawn delay: delays double between quick crashes up to MAX and reset after a long run",
  (dir) => ({
    crashy: `respawn
respawn limit unlimited
respawn delay 0.2 0.8
script
    date +%s.%N >> ${dir}/spawns
    if [ -e ${dir}/stable ]; then exec sleep 1000; fi
    exit 1
end script
`,
  }),
  async (d) => {
    const spawns = `${d.dir}/spawns`;
    await d.initctl("start", "crashy");
    await waitFor(() => lines(spawns).length >= 5, "five spawns", 10_000);
    Deno.writeTextFileSync(`${d.dir}/stable`, "");
    const g = gaps(spawns).slice(0, 4);
    [0.2, 0.4, 0.8, 0.8].forEach((want, i) => assertGap(g[i]!, want, `gap ${i + 1}`));
    await logged(d, /crashy respawning in 0\.2s \(back-off 1\)/);
    await logged(d, /crashy respawning in 0\.8s \(back-off 4\)/);

    // Let it run longer than MAX, then crash it: the back-off starts again from MIN.
    const pid = await d.waitRunning("crashy");
    const ranFrom = Number(lines(spawns).at(-1));
    await waitFor(() => Date.now() / 1000 - ranFrom > 1.0, "a run longer than MAX", 5000);
    Deno.removeSync(`${d.dir}/stable`);
    const before = lines(spawns).length;
    Deno.kill(pid, "SIGKILL");
    const killedAt = Date.now() / 1000;
    await waitFor(() => lines(spawns).length >= before + 2, "two more spawns", 5000);
    assertGap(Number(lines(spawns)[before]) - killedAt, 0.2, "kill to respawn after the reset");
    const after = gaps(spawns).slice(before - 1, before + 1);
    // The kill itself is not in the file; the gap from the kill to the next spawn is MIN.
    assertGap(after[1]!, 0.4, "second quick crash after the reset");
    await logged(
      d,
      /crashy respawning in 0\.2s \(back-off 1\)[^]*crashy respawning in 0\.2s \(back-off 1\)/,
    );
  },
);

daemonTest(
  "respawn delay: initctl stop during the back-off stops at once",
  (dir) => ({
    patient: `respawn
respawn delay 5 10
script
    date +%s.%N >> ${dir}/spawns
    exit 1
end script
`,
  }),
  async (d) => {
    await d.initctl("start", "patient");
    await waitFor(() => /patient respawning in 5s/.test(d.output), "the back-off");
    await d.waitStatus("patient", /^patient start\/post-stop$/);
    const t0 = performance.now();
    const r = await d.initctl("stop", "patient");
    const took = performance.now() - t0;
    equal(r.code, 0, r.stderr);
    ok(took < 1000, `stop took ${took.toFixed(0)} ms`);
    equal((await d.initctl("status", "patient")).stdout.trim(), "patient stop/waiting");
    equal(lines(`${d.dir}/spawns`).length, 1, "not respawned");
  },
);

daemonTest(
  "respawn retry: a job that hit its limit is started again after AFTER and respawn-failed says why",
  (dir) => ({
    flaky: `respawn
respawn limit 2 10
respawn retry 1
script
    date +%s.%N >> ${dir}/spawns
    if [ -e ${dir}/broken ]; then echo "dependency missing"; exit 3; fi
    echo "up"
    exec sleep 1000
end script
`,
    "flaky-failed": `start on respawn-failed JOB=flaky
task
script
    echo "$JOB|$INSTANCE|\${EXIT_STATUS:-}|\${EXIT_SIGNAL:-}|$LOG" >> ${dir}/gave-up
end script
`,
  }),
  async (d) => {
    Deno.writeTextFileSync(`${d.dir}/broken`, "");
    await d.initctl("start", "flaky");
    const gaveUp = await waitFor(() => someLines(`${d.dir}/gave-up`), "respawn-failed", 10_000);
    deepStrictEqual(gaveUp, [`flaky||3||${d.logs}/flaky.log`]);
    await logged(d, /flaky respawning too fast, stopped/);
    await logged(
      d,
      new RegExp(`flaky gave up respawning: last exit status 3, log ${d.logs}/flaky\\.log`),
    );
    await logged(d, /flaky will be started again in 1s \(respawn retry\)/);
    const givenUpAt = Date.now() / 1000;
    equal(lines(`${d.dir}/spawns`).length, 3);
    // While the retry is pending, status says when and why (upkeep's addition).
    match(
      (await d.initctl("status", "flaky")).stdout.trim(),
      /^flaky stop\/waiting, next try in [01]s: respawning too fast \(last: terminated with status 3\)$/,
    );

    Deno.removeSync(`${d.dir}/broken`);
    const pid = await d.waitRunning("flaky");
    const retriedAt = Number(lines(`${d.dir}/spawns`).at(-1));
    ok(
      retriedAt - givenUpAt > 0.7,
      `retried ${(retriedAt - givenUpAt).toFixed(2)} s after giving up`,
    );
    await logged(d, /flaky retrying after respawn limit/);
    await d.waitLog("flaky.log", /dependency missing\n[^]*up\n/);
    // It stays up: the same process a while later, and no new give-up.
    await waitFor(() => Date.now() / 1000 - retriedAt > 0.5, "half a second", 2000);
    equal(await d.mainPid("flaky"), pid);
    equal(lines(`${d.dir}/gave-up`).length, 1);
  },
);

daemonTest(
  "respawn retry: initctl stop while the job waits for its retry cancels the retry",
  (dir) => ({
    doomed: `respawn
respawn limit 1 10
respawn retry 0.5
script
    date +%s.%N >> ${dir}/spawns
    exit 2
end script
`,
  }),
  async (d) => {
    await d.initctl("start", "doomed");
    await logged(d, /doomed will be started again in 0\.5s \(respawn retry\)/);
    const r = await d.initctl("stop", "doomed");
    equal(r.code, 0, r.stderr);
    equal(r.stdout.trim(), "doomed stop/waiting");
    await logged(d, /doomed respawn retry cancelled/);
    const spawned = lines(`${d.dir}/spawns`).length;
    const stoppedAt = Date.now() / 1000;
    // Well past the retry time: nothing was started again.
    await waitFor(() => Date.now() / 1000 - stoppedAt > 1.0, "a second", 2000);
    equal(lines(`${d.dir}/spawns`).length, spawned);
    ok(!/doomed retrying after respawn limit/.test(d.output), "no retry");
    const again = await d.initctl("stop", "doomed");
    equal(again.code, 1);
    match(again.stderr, /Unknown instance/);
  },
);

daemonTest(
  "respawn retry: every instance that gave up is started again",
  (dir) => ({
    shard: `instance $N
respawn
respawn limit 1 10
respawn retry 0.5
script
    if [ -e ${dir}/broken-$N ]; then exit 5; fi
    exec sleep 1000
end script
`,
  }),
  async (d) => {
    for (const n of ["a", "b"]) Deno.writeTextFileSync(`${d.dir}/broken-${n}`, "");
    await d.initctl("start", "shard", "N=a");
    await d.initctl("start", "shard", "N=b");
    await logged(d, /shard \(a\) will be started again/);
    await logged(d, /shard \(b\) will be started again/);
    for (const n of ["a", "b"]) Deno.removeSync(`${d.dir}/broken-${n}`);
    await d.waitRunning("shard", "N=a");
    await d.waitRunning("shard", "N=b");
  },
);
