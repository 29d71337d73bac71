/**
 * End-to-end: no strays. What a main process leaves in its process group when it ends on its own
 * gets the kill signal (then SIGKILL after the kill timeout) before the job respawns or stops; a
 * stop waits until the group is empty, however long its members ignore the kill signal (up to the
 * kill timeout); processes that left the group on purpose (setsid) are not touched.
 */

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { daemonTest } from "./daemon_helpers.ts";
import { pidAlive, waitFor } from "./helpers.ts";

/**
 * Sleep lengths of this test process's own (`4242` then its pid): another run of the suite on the
 * same machine is not counted.
 */
const SLEEP_A = `4242${Deno.pid}`, SLEEP_B = `4343${Deno.pid}`, SLEEP_C = `4444${Deno.pid}`;
const SLEEP_D = `4545${Deno.pid}`;

/** Live processes whose command line (words joined by spaces) is exactly `command`. */
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

/** The pid a job wrote to `path`, or null while it has not (yet). */
function pidInFile(path: string): number | null {
  try {
    return Number(Deno.readTextFileSync(path).trim()) || null;
  } catch {
    return null;
  }
}

daemonTest("a respawning job leaves no background children behind", {
  leaky: "respawn\nrespawn limit unlimited\n" +
    `exec sh -c 'sleep ${SLEEP_A} & sleep ${SLEEP_A} & sleep 0.2; exit 1'\n`,
}, async (d) => {
  await d.initctl("start", "leaky");
  // After a few respawns, at most the current run's two sleeps are alive.
  await waitFor(
    async () => JSON.parse((await d.initctl("status", "--json", "leaky")).stdout)[0].respawns >= 4,
    "four respawns",
  );
  assert(running(`sleep ${SLEEP_A}`).length <= 2, `strays: ${running(`sleep ${SLEEP_A}`)}`);
  const r = await d.initctl("stop", "leaky");
  assertEquals(r.stdout.trim(), "leaky stop/waiting");
  assertEquals(running(`sleep ${SLEEP_A}`), []);
});

daemonTest("stop waits out a TERM-ignoring child for the kill timeout, then kills it", (dir) => ({
  stubborn: "kill timeout 2\n" +
    `exec sh -c 'trap "" TERM; (trap "" TERM; exec sleep ${SLEEP_B}) & echo $! >${dir}/child; wait'\n`,
}), async (d) => {
  await d.initctl("start", "stubborn");
  const child = await waitFor(() => pidInFile(`${d.dir}/child`), "child pid");
  const t0 = performance.now();
  const r = await d.initctl("stop", "stubborn");
  const took = performance.now() - t0;
  assertEquals(r.stdout.trim(), "stubborn stop/waiting");
  assertEquals(pidAlive(child), false);
  assert(took >= 1500, `stop returned after ${took} ms, before the kill timeout`);
});

daemonTest("a child that left the group with setsid is not touched", {
  parent: `respawn\nexec sh -c 'setsid sleep ${SLEEP_C} & sleep 0.2; exit 1'\n`,
}, async (d) => {
  const sessionLeaders = () => running(`sleep ${SLEEP_C}`);
  try {
    await d.initctl("start", "parent");
    const first = await waitFor(() => sessionLeaders()[0], "the setsid child");
    await waitFor(
      () => (d.output.match(/parent main process ended, respawning/g) ?? []).length >= 2,
      "two respawns",
    );
    assert(pidAlive(first), "the setsid child survived its parent's respawns");
    await d.initctl("stop", "parent");
  } finally {
    for (const p of sessionLeaders()) Deno.kill(p, "SIGKILL");
  }
});

daemonTest(
  "an orphan reparented to the daemon is reaped when it ends (no zombie stays)",
  (dir) => ({
    orphaner:
      `script\n  sh -c 'sleep 0.3 & echo $! >${dir}/orphan'\n  exec sleep ${SLEEP_D}\nend script\n`,
  }),
  async (d) => {
    await d.initctl("start", "orphaner");
    const orphan = await waitFor(() => pidInFile(`${d.dir}/orphan`), "the orphan's pid");
    // Its parent shell is gone: the subreaper daemon is its parent now, and must reap it.
    await waitFor(() => {
      try {
        const stat = Deno.readTextFileSync(`/proc/${orphan}/stat`);
        return !stat.startsWith(`${orphan} (`); // the pid reused by something else
      } catch {
        return true; // reaped
      }
    }, `the end of orphan ${orphan} (no zombie left)`);
    const r = await d.initctl("status", "orphaner");
    assert(/^orphaner start\/running, process \d+$/.test(r.stdout.trim()), r.stdout);
    assertEquals(running(`sleep ${SLEEP_D}`).length, 1);
    await d.initctl("stop", "orphaner");
  },
);
