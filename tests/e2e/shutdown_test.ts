/**
 * End-to-end: the daemon's SIGTERM stops jobs in Upstart's order (a `stop on stopping db` job
 * before db finishes stopping), honours every kill timeout, and exits only when nothing of any
 * job is left.
 */

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { daemonTest, lines } from "./daemon_helpers.ts";
import { pidAlive, waitFor } from "./helpers.ts";

daemonTest("SIGTERM stops a `stop on stopping db` job before db", (dir) => ({
  db: `exec sleep 1000\npost-stop exec sh -c 'echo db >>${dir}/order'\n`,
  app: `start on started db\nstop on stopping db\nexec sleep 1000\n` +
    `post-stop exec sh -c 'sleep 0.3; echo app >>${dir}/order'\n`,
  other: `exec sleep 1000\npost-stop exec sh -c 'echo other >>${dir}/other'\n`,
}), async (d) => {
  await d.initctl("start", "db");
  await d.initctl("start", "other");
  await d.waitRunning("app");
  d.process!.kill("SIGTERM");
  assertEquals((await d.process!.status).code, 0);
  assertEquals(lines(`${d.dir}/order`), ["app", "db"]);
  assertEquals(lines(`${d.dir}/other`), ["other"]);
});

daemonTest("SIGTERM waits out a TERM-ignoring grandchild's kill timeout, then leaves nothing", (
  dir,
) => ({
  stubborn: "kill timeout 2\n" +
    `exec sh -c '(trap "" TERM; exec sleep 4545) & echo $! >${dir}/child; wait'\n`,
}), async (d) => {
  await d.initctl("start", "stubborn");
  const child = await waitFor(() => lines(`${d.dir}/child`).map(Number)[0], "grandchild pid");
  const t0 = performance.now();
  d.process!.kill("SIGTERM");
  await d.process!.status;
  const took = performance.now() - t0;
  assertEquals(pidAlive(child), false);
  assert(took >= 1500, `the daemon exited after ${took} ms, before the kill timeout`);
});

daemonTest("SIGTERM kills a pre-start that would run forever", {
  hung: "pre-start exec sleep 1000\nexec sleep 1000\n",
}, async (d) => {
  const r = await d.initctl("start", "-n", "hung");
  assertEquals(r.code, 0);
  const pre = await waitFor(async () => {
    const m = /process (\d+)/.exec((await d.initctl("status", "hung")).stdout);
    return m ? Number(m[1]) : null;
  }, "pre-start pid");
  d.process!.kill("SIGTERM");
  assertEquals((await d.process!.status).code, 0);
  assertEquals(pidAlive(pre), false);
});
