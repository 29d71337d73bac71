/**
 * `upkeep doctor` end to end, on an install in a temp root booted the way its init would boot it:
 * all well (exit 0); a bad job file, a job stopped by its respawn limit (exit 1 with both listed);
 * nothing installed and no daemon (exit 1, and the same in --json).
 */

import assert from "node:assert/strict";
import { runUpkeep, waitFor } from "./helpers.ts";
import {
  bootCommands,
  cleanupRoot,
  prepareRoot,
  runBoot,
  tempRoot,
  waitJobsRunning,
} from "./boot_sim.ts";

/** Install with systemd into a temp root, write these jobs, boot; run `fn`; clean up. */
async function withBootedRoot(
  jobs: Record<string, string>,
  fn: (root: string, socket: string) => Promise<void>,
): Promise<void> {
  const root = await tempRoot();
  const r = root.path;
  const socket = `${r}/run/upkeep/upkeep.sock`;
  let daemon: Deno.ChildProcess | null = null;
  try {
    await prepareRoot(r, "systemd");
    const inst = await runUpkeep(["install", "--root", r]);
    assert.equal(inst.code, 0, inst.stderr);
    for (const [name, text] of Object.entries(jobs)) {
      await Deno.writeTextFile(`${r}/etc/init/${name}.conf`, text);
    }
    const cmds = await bootCommands(r, "systemd");
    daemon = await runBoot(cmds.boot, true);
    await fn(r, socket);
  } finally {
    await cleanupRoot(r, socket);
    await daemon?.status;
    await root.cleanup();
  }
}

Deno.test({
  name: "doctor says all is well for a running, boot-registered daemon with healthy jobs",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withBootedRoot(
      { app: "start on runlevel [2345]\nrespawn\nexec sleep 1000\n" },
      async (r, socket) => {
        await waitJobsRunning(socket, ["app"]);
        const d = await runUpkeep(["doctor", "--root", r]);
        assert.equal(d.code, 0, d.stdout + d.stderr);
        assert.match(d.stdout, new RegExp(`^ok +daemon: running, answering on ${socket}`, "m"));
        assert.match(
          d.stdout,
          /^ok +boot: registered with systemd \(\/etc\/systemd\/system\/upkeep.service\)$/m,
        );
        assert.match(d.stdout, /^ok +job files: 1 job in /m);
        assert.match(d.stdout, /^ok +jobs: 1 known, 1 with goal start, none failing$/m);
        assert.match(d.stdout, /^ok +log dir: .*\/var\/log\/upkeep writable; disk \d+% used, /m);
        assert.match(d.stdout, /\nAll is well\.\n$/);
      },
    );
  },
});

Deno.test({
  name: "doctor lists a bad job file and a job stopped by its respawn limit, and exits 1",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withBootedRoot({
      app: "start on runlevel [2345]\nrespawn\nexec sleep 1000\n",
      flappy: "start on runlevel [2345]\nrespawn\nrespawn limit 2 60\nexec false\n",
      broken: "start on runlevel [2345]\nfrobnicate yes\nexec sleep 1\n",
    }, async (r, socket) => {
      await waitJobsRunning(socket, ["app"]);
      const d = await waitFor(
        async () => {
          const d = await runUpkeep(["doctor", "--root", r]);
          return /job flappy/.test(d.stdout) ? d : null;
        },
        "doctor to see flappy stopped",
        20_000,
        200,
      );
      assert.equal(d.code, 1, d.stdout);
      assert.match(d.stdout, /^PROBLEM job files: \d+ jobs? in .*; 1 error:$/m);
      assert.match(d.stdout, /etc\/init\/broken\.conf:2: /);
      assert.match(d.stdout, /^PROBLEM job flappy: stopped after hitting its respawn limit/m);
      assert.match(d.stdout, /^\d problems:$/m);
      assert.match(d.stdout, /^ok +daemon: running/m);
    });
  },
});

Deno.test("doctor without a daemon or an install reports both and exits 1, also as JSON", async () => {
  const root = await tempRoot();
  const r = root.path;
  try {
    await Deno.mkdir(`${r}/conf`);
    await Deno.mkdir(`${r}/log`);
    const args = ["--root", r, "--conf-dir", `${r}/conf`, "--log-dir", `${r}/log`];
    args.push("--socket", `${r}/none.sock`);
    const d = await runUpkeep(["doctor", ...args]);
    assert.equal(d.code, 1);
    assert.match(d.stdout, /^PROBLEM daemon: not running: no answer on .*none\.sock$/m);
    assert.match(d.stdout, /^PROBLEM boot: not registered for boot: run 'upkeep install'/m);
    assert.match(d.stdout, /^2 problems:$/m);
    const j = await runUpkeep(["doctor", "--json", ...args]);
    assert.equal(j.code, 1);
    const report = JSON.parse(j.stdout);
    assert.equal(report.ok, false);
    assert.deepEqual(report.problems.map((p: { name: string }) => p.name), ["daemon", "boot"]);
  } finally {
    await root.cleanup();
  }
});
