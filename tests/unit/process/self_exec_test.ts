/**
 * daemonRuntimeEnv: when the daemon execs itself to get its V8 flags and environment in effect,
 * and with what environment. Pure: no exec here (tests/e2e/v8_flags_test.ts runs the real one).
 */

import * as assert from "node:assert/strict";
import { DAEMON_ENV, DAEMON_V8_FLAGS, daemonRuntimeEnv } from "../../../lib/process/self_exec.ts";

const ALL = DAEMON_V8_FLAGS.join(",");

Deno.test("daemonRuntimeEnv: under deno run, a bare environment gets every flag and DAEMON_ENV", () => {
  const env = daemonRuntimeEnv({ PATH: "/bin", HOME: "/root" }, false);
  assert.deepEqual(env, { PATH: "/bin", HOME: "/root", ...DAEMON_ENV, DENO_V8_FLAGS: ALL });
});

Deno.test("daemonRuntimeEnv: nothing to do once every flag and DAEMON_ENV are there", () => {
  assert.equal(daemonRuntimeEnv({ ...DAEMON_ENV, DENO_V8_FLAGS: ALL }, false), null);
  // The user's own flags stay, first; a flag given with another value counts as given.
  const own = `--stack-size=2000,${
    ALL.replace("--max-semi-space-size=1", "--max-semi-space-size=4")
  }`;
  assert.equal(daemonRuntimeEnv({ ...DAEMON_ENV, DENO_V8_FLAGS: own }, false), null);
});

Deno.test("daemonRuntimeEnv: the user's flags are kept and only the missing ones added", () => {
  const env = daemonRuntimeEnv({ DENO_V8_FLAGS: "--stack-size=2000,--expose-gc" }, false);
  const flags = env?.DENO_V8_FLAGS?.split(",");
  assert.equal(flags?.[0], "--stack-size=2000");
  for (const f of DAEMON_V8_FLAGS) assert.ok(flags?.includes(f), `${f} missing: ${flags}`);
  assert.equal(flags?.filter((f) => f === "--expose-gc").length, 1);
});

Deno.test("daemonRuntimeEnv: a missing DAEMON_ENV value alone is reason enough to exec", () => {
  const env = daemonRuntimeEnv({ DENO_V8_FLAGS: ALL }, false);
  assert.deepEqual(env, { ...DAEMON_ENV, DENO_V8_FLAGS: ALL });
});

Deno.test("daemonRuntimeEnv: a compiled binary never execs itself (its flags are built in)", () => {
  assert.equal(daemonRuntimeEnv({}, true), null);
  assert.equal(daemonRuntimeEnv({ DENO_V8_FLAGS: "--stack-size=2000" }, true), null);
});
