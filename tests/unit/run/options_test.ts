/** Unit tests of `upkeep run` argument parsing. */

import assert from "node:assert/strict";
import { parseRunArgs, type RunOptions } from "../../../lib/run/options.ts";

function ok(args: string[]): RunOptions {
  const r = parseRunArgs(args);
  if ("error" in r) throw new Error(r.error);
  return r;
}

Deno.test("parseRunArgs() takes a job file, or a command after --", () => {
  assert.equal(ok(["backup.conf"]).jobFile, "backup.conf");
  const c = ok(["--timeout", "5m", "--", "tar", "--timeout", "x"]);
  assert.deepEqual([c.jobFile, c.command, c.timeout], [null, ["tar", "--timeout", "x"], 300]);
});

Deno.test("parseRunArgs() reads durations in every form and defaults retry delay to 1s", () => {
  assert.equal(ok(["--timeout", "0.5s", "j"]).timeout, 0.5);
  assert.equal(ok(["--timeout", "90", "j"]).timeout, 90);
  assert.equal(ok(["--timeout", "1h", "j"]).timeout, 3600);
  assert.equal(ok(["--retry-delay", "500ms", "j"]).retryDelay, 0.5);
  assert.equal(ok(["j"]).retryDelay, 1);
});

Deno.test("parseRunArgs() --lock implies no-overlap; kill signal is canonical", () => {
  const o = ok(["--lock", "/tmp/l", "--kill-signal", "SIGINT", "j"]);
  assert.deepEqual([o.noOverlap, o.lockFile, o.killSignal], [true, "/tmp/l", "INT"]);
});

Deno.test("parseRunArgs() rejects unknown flags, bad values and missing or extra operands", () => {
  for (
    const args of [
      ["--bogus", "j"],
      ["--timeout", "soon", "j"],
      ["--timeout", "0", "j"],
      ["--retries", "-1", "j"],
      ["--kill-signal", "NOPE", "j"],
      ["--log", "x", "--no-log", "j"],
      ["a.conf", "b.conf"],
      ["a.conf", "--", "cmd"],
      ["--"],
      [],
    ]
  ) assert.ok("error" in parseRunArgs(args), args.join(" "));
});

Deno.test("parseRunArgs() accepts --help without operands", () => {
  assert.equal(ok(["--help"]).help, true);
});
