/** `upkeep show-config` as a subprocess: initctl show-config's format on files. */

import { equal, ok } from "node:assert/strict";
import { REPO_ROOT, runUpkeep } from "./helpers.ts";

const VALID = `${REPO_ROOT}/tests/fixtures/jobs/valid`;

Deno.test("show-config prints each job's emits, start on and stop on", async () => {
  const r = await runUpkeep(["show-config", VALID]);
  equal(r.code, 0, r.stderr);
  equal(
    r.stdout,
    [
      "app",
      "  emits app-ready",
      "  stop on stopping seed",
      "seed",
      "  start on runlevel 2",
      "waiter",
      "  start on app-ready",
      "",
    ].join("\n"),
  );
});

Deno.test("show-config -e enumerates the events of each condition", async () => {
  const r = await runUpkeep(["show-config", "-e", `${VALID}/seed.conf`, `${VALID}/app.conf`]);
  equal(r.code, 0, r.stderr);
  equal(
    r.stdout,
    "seed\n  start on runlevel (job:, env: 2)\napp\n  emits app-ready\n  stop on stopping (job: seed, env:)\n",
  );
});

Deno.test("show-config reports invalid files on stderr, shows the rest and exits 1", async () => {
  const r = await runUpkeep([
    "show-config",
    `${REPO_ROOT}/tests/fixtures/jobs/invalid/bad.conf`,
    `${VALID}/seed.conf`,
  ]);
  equal(r.code, 1);
  equal(r.stdout, "seed\n  start on runlevel 2\n");
  ok(r.stderr.includes("bad.conf:2: Illegal limit, expected 'unlimited' or integer"));
});

Deno.test("show-config usage errors exit 2", async () => {
  for (const args of [["--nope", VALID], []]) {
    const r = await runUpkeep(["show-config", ...args]);
    equal(r.code, 2);
    ok(r.stderr.startsWith("upkeep show-config: "));
  }
});
