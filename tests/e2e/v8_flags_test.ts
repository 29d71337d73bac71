/**
 * End-to-end: the daemon runs with its V8 flags (lib/process/self_exec.ts). V8 reads them only at
 * start, so the daemon execs itself once with them, in place: the pid that was launched is the
 * one that runs, answers, and has every flag in its environment.
 */

import { ok as assert } from "node:assert/strict";
import { DAEMON_V8_FLAGS } from "../../lib/process/self_exec.ts";
import { daemonTest } from "./daemon_helpers.ts";

daemonTest("v8 flags: the launched daemon execs itself in place with every flag", {}, (d) => {
  const pid = d.process!.pid;
  const env = Deno.readTextFileSync(`/proc/${pid}/environ`).split("\0");
  const flags = env.find((v) => v.startsWith("DENO_V8_FLAGS="))?.slice("DENO_V8_FLAGS=".length);
  assert(flags !== undefined, "DENO_V8_FLAGS is not in the daemon's environment");
  const given = flags.split(",");
  for (const f of DAEMON_V8_FLAGS) assert(given.includes(f), `${f} missing from ${flags}`);
  return Promise.resolve();
});
