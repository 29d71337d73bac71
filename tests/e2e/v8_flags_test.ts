/**
 * End-to-end: the daemon runs with its V8 flags and environment (lib/process/self_exec.ts). V8
 * and Deno read them only at start, so the daemon execs itself once with them, in place: the pid
 * that was launched is the one that runs, answers, and has every flag in its environment, and
 * DENO_NO_UPDATE_CHECK=1 (no look for a newer Deno over the network), even when launched without.
 * The shims its jobs call (`start`, `stop`, …) carry DENO_NO_UPDATE_CHECK too. A compiled binary
 * (UPKEEP_BIN) has the flags built in and execs nothing: there, the daemon only has to say
 * nothing of running without them. A first start from an empty Deno cache has the launcher load
 * the daemon's modules before that exec (lib/process/module_cache.ts), and still gets there.
 */

import { ok as assert } from "node:assert/strict";
import { DAEMON_ENV, DAEMON_V8_FLAGS } from "../../lib/process/self_exec.ts";
import { daemonTest, TestDaemon } from "./daemon_helpers.ts";
import { REPO_ROOT, tempDir } from "./helpers.ts";

daemonTest(
  "v8 flags: the launched daemon execs itself in place with every flag and no update check",
  {},
  async (d) => {
    // Said at start when `gc` (--expose-gc) is missing, whatever the way the flags came.
    const log = await Deno.readTextFile(`${d.logs}/upkeep.log`);
    assert(!/without its V8 flags/.test(log), `the daemon runs without its V8 flags:\n${log}`);
    if (Deno.env.get("UPKEEP_BIN")) return;
    const pid = d.process!.pid;
    const env = Deno.readTextFileSync(`/proc/${pid}/environ`).split("\0");
    const value = (k: string) => env.find((v) => v.startsWith(`${k}=`))?.slice(k.length + 1);
    const flags = value("DENO_V8_FLAGS");
    assert(flags !== undefined, "DENO_V8_FLAGS is not in the daemon's environment");
    const given = flags.split(",");
    for (const f of DAEMON_V8_FLAGS) assert(given.includes(f), `${f} missing from ${flags}`);
    for (const [k, v] of Object.entries(DAEMON_ENV)) {
      assert(value(k) === v, `${k}=${v} is not in the daemon's environment: ${value(k)}`);
    }
    const shim = Deno.readTextFileSync(`${d.state}/bin/start`);
    assert(
      / DENO_NO_UPDATE_CHECK=1 exec /.test(shim),
      `the start shim checks for updates:\n${shim}`,
    );
  },
  { launcher: ["env", "-u", "DENO_NO_UPDATE_CHECK"] },
);

Deno.test({
  name: "v8 flags: a first start from an empty Deno cache transpiles in the launcher, then execs",
  // A compiled binary transpiles nothing and execs nothing: nothing of this applies.
  ignore: Deno.env.get("UPKEEP_BIN") !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // Every module of this tree is new to an empty DENO_DIR: the launcher finds the daemon's
    // modules untranspiled (lib/process/module_cache.ts) and loads them before its exec.
    const cache = await tempDir("upkeep-deno-dir-");
    const d = await TestDaemon.create({ a: "start on startup\nrespawn\nexec sleep 1000\n" });
    try {
      await d.start([], ["env", `DENO_DIR=${cache.path}`]);
      await d.waitRunning("a");
      const log = await Deno.readTextFile(`${d.logs}/upkeep.log`);
      assert(!/without its V8 flags/.test(log), `the daemon runs without its V8 flags:\n${log}`);
      const env = Deno.readTextFileSync(`/proc/${d.process!.pid}/environ`).split("\0");
      assert(env.some((v) => v.startsWith("DENO_V8_FLAGS=")), "the daemon did not exec itself");
      const copy = `${cache.path}/gen/file${REPO_ROOT}/lib/cli/daemon.ts.js`;
      assert(Deno.statSync(copy).isFile, `no transpiled daemon in the cache: ${copy}`);
    } catch (e) {
      console.error(`--- daemon output ---\n${d.output}`);
      throw e;
    } finally {
      await d.close();
      await cache.cleanup();
    }
  },
});
