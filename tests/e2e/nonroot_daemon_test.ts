/**
 * End-to-end: fork following works for a daemon run by a normal user too (ptrace of its own
 * children needs no privilege): upkeep as `nobody`, a Python daemon that double-forks with a
 * second of work between its forks, under `expect daemon`.
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { NOBODY, nobodyRuntime } from "./as_nobody.ts";
import { pidAlive, REPO_ROOT, runUpkeep, tempDir, waitFor } from "./helpers.ts";
import { removeFifoDirs } from "./daemon_helpers.ts";

Deno.test({
  name: "a non-root daemon follows the forks of expect daemon",
  ignore: Deno.uid() !== 0,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const rt = await nobodyRuntime();
    const t = await tempDir("upkeep-nonroot-");
    const dir = t.path;
    let daemon: Deno.ChildProcess | null = null;
    try {
      Deno.chmodSync(dir, 0o755);
      for (const sub of ["conf", "state", "logs"]) Deno.mkdirSync(`${dir}/${sub}`, { mode: 0o755 });
      Deno.copyFileSync(
        `${REPO_ROOT}/tests/fixtures/daemons/double_fork.py`,
        `${dir}/double_fork.py`,
      );
      Deno.chmodSync(`${dir}/double_fork.py`, 0o755);
      const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (l.addr as Deno.NetAddr).port;
      l.close();
      Deno.writeTextFileSync(
        `${dir}/conf/pyd.conf`,
        `expect daemon\nrespawn\nexec python3 ${dir}/double_fork.py ${port} ${dir}/state/py.pid 1\n`,
        { mode: 0o644 },
      );
      for (const sub of ["", "/conf", "/conf/pyd.conf", "/state", "/logs"]) {
        Deno.chownSync(`${dir}${sub}`, NOBODY, NOBODY);
      }
      const socket = `${dir}/state/upkeep.sock`;
      const [cmd, ...pre] = rt.upkeep;
      daemon = new Deno.Command(cmd!, {
        args: [
          ...pre,
          "daemon",
          "--conf-dir",
          `${dir}/conf`,
          "--state-dir",
          `${dir}/state`,
          "--log-dir",
          `${dir}/logs`,
          "--socket",
          socket,
        ],
        uid: NOBODY,
        gid: NOBODY,
        cwd: dir,
        clearEnv: true,
        env: { ...rt.env, PATH: "/usr/local/bin:/usr/bin:/bin" },
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      const initctl = (...a: string[]) => runUpkeep(["initctl", "--socket", socket, ...a]);
      await waitFor(async () => (await initctl("version")).code === 0, "daemon answers", 20_000);
      assertEquals((await initctl("start", "pyd")).code, 0);
      const pidOf = () => {
        try {
          return Number(Deno.readTextFileSync(`${dir}/state/py.pid`).trim()) || null;
        } catch {
          return null;
        }
      };
      const mainPid = async () =>
        Number(/process (\d+)/.exec((await initctl("status", "pyd")).stdout)?.[1]) || null;
      const first = await waitFor(pidOf, "pid file");
      assertEquals(await mainPid(), first);
      Deno.removeSync(`${dir}/state/py.pid`);
      Deno.kill(first, "SIGKILL");
      const second = await waitFor(async () => {
        const p = pidOf();
        return p !== null && p !== first && (await mainPid()) === p ? p : null;
      }, "back with a new pid");
      assertEquals((await initctl("stop", "pyd")).stdout.trim(), "pyd stop/waiting");
      await waitFor(() => !pidAlive(second), "the daemon stopped");
    } finally {
      if (daemon) {
        try {
          daemon.kill("SIGTERM");
        } catch { /* gone */ }
        await daemon.status;
      }
      removeFifoDirs(`${dir}/state`);
      await t.cleanup();
    }
  },
});
