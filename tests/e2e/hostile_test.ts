/**
 * End-to-end: nothing in a job file or a failing system call stalls, crashes or wedges the
 * daemon. Hostile files are reported as FILE:LINE: message (the same by check-config and the
 * daemon) while every other job runs; a signal without a name (`kill signal 34`) works; a spawn
 * that fails (a `chdir` directory that is not there yet) is retried through respawn and
 * `respawn retry`, and status says why and when the next try is.
 */

import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { daemonTest, logged } from "./daemon_helpers.ts";
import { runUpkeep, waitFor } from "./helpers.ts";

const deep = "start on " + "a and (".repeat(10_000) + "b" + ")".repeat(10_000) + "\n";
const badLines = Array.from({ length: 100_000 }, () => "x").join("\n") + "\n";

daemonTest("a 10,000-deep start on, a FIFO and a 100,000-line bad file: reported, others run", (
  dir,
) => {
  Deno.mkdirSync(`${dir}/conf`, { recursive: true });
  new Deno.Command("mkfifo", { args: [`${dir}/conf/fifo.conf`] }).outputSync();
  return { deep, bad: badLines, good: "exec sleep 1000\n" };
}, async (d) => {
  assertEquals((await d.initctl("start", "good")).code, 0);
  await logged(d, /deep\.conf:1: Expression too complex \(nested deeper than 2048\)/);
  await logged(d, /fifo\.conf:0: not a regular file: skipped/);
  await logged(
    d,
    /bad\.conf: 99999 more problems not logged \(upkeep check-config \S+ lists them\)/,
  );
  assertEquals((d.output.match(/bad\.conf:\d+: /g) ?? []).length, 1);
  // check-config says the same of the deep file.
  const cc = await runUpkeep(["check-config", `${d.conf}/deep.conf`]);
  assertEquals(cc.code, 1);
  assertMatch(cc.stdout + cc.stderr, /deep\.conf:1: Expression too complex/);
  // Reloads still work, and log the unchanged bad files no more.
  d.writeJob("late", "exec sleep 1000\n");
  await waitFor(async () => (await d.initctl("status", "late")).code === 0, "late job loaded");
  assertEquals((await d.initctl("start", "late")).code, 0);
  assertEquals((d.output.match(/deep\.conf:1: /g) ?? []).length, 1);
});

daemonTest("kill signal 34: a signal without a name stops the job", {
  rt: "kill signal 34\nexec sleep 1000\n",
}, async (d) => {
  await d.initctl("start", "rt");
  await d.waitRunning("rt");
  const r = await d.initctl("stop", "rt");
  assertEquals(r.stdout.trim(), "rt stop/waiting");
  await logged(d, /rt main process \(\d+\) killed by signal 34$/m);
  assertEquals((await d.initctl("start", "rt")).code, 0);
  await d.waitRunning("rt");
});

daemonTest("a chdir directory that appears later: retried until the job runs", (dir) => ({
  late: `chdir ${dir}/appears\nrespawn\nrespawn limit 2 60\nrespawn retry 1\nexec sleep 1000\n`,
}), async (d) => {
  const r = await d.initctl("start", "late");
  assertEquals(r.stderr.trim(), "initctl: Job failed to start");
  await logged(
    d,
    new RegExp(`cannot change to directory ${d.dir}/appears: No such file or directory`),
  );
  const status = await d.waitStatus("late", /next try in/);
  assertMatch(
    status.trim(),
    /^late stop\/waiting, next try in \ds: cannot spawn main process: cannot change to directory/,
  );
  const json = JSON.parse((await d.initctl("status", "--json", "late")).stdout)[0];
  assertMatch(json.lastFailure.message, /cannot change to directory .*: No such file or directory/);
  assert(json.nextTry !== null);
  Deno.mkdirSync(`${d.dir}/appears`);
  await d.waitRunning("late");
  const after = JSON.parse((await d.initctl("status", "--json", "late")).stdout)[0];
  assertEquals(after.lastFailure, null);
});
