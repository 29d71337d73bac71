/** `upkeep check-config` as a subprocess: exit codes, messages, --json, --upstart, usage errors. */

import { deepEqual, equal, ok } from "node:assert/strict";
import { REPO_ROOT, runUpkeep, tempDir } from "./helpers.ts";

const CORPUS = new URL("../../../shared/upstart-jobs/", import.meta.url).pathname;
const FIXTURES = `${REPO_ROOT}/tests/fixtures/jobs`;
const haveCorpus = (() => {
  try {
    return Deno.statSync(CORPUS).isDirectory;
  } catch {
    return false;
  }
})();

Deno.test("check-config accepts the real corpus, the examples and the seed (exit 0)", async () => {
  const paths = [`${REPO_ROOT}/examples/init`, `${FIXTURES}/valid`];
  if (haveCorpus) paths.push(CORPUS);
  const r = await runUpkeep(["check-config", ...paths]);
  equal(r.code, 0, r.stderr);
  ok(!/:\d+: (?!warning: )/.test(r.stderr), r.stderr);
  ok(r.stdout.includes(`${FIXTURES}/valid/seed.conf: syntax ok`));
  if (haveCorpus) ok(r.stdout.includes(`${CORPUS}ubuntu-upstart-tty1.conf: syntax ok`));
});

Deno.test("check-config reports every error as FILE:LINE: message and exits 1", async () => {
  const r = await runUpkeep(["check-config", "bad.conf"], { cwd: `${FIXTURES}/invalid` });
  equal(r.code, 1);
  equal(r.stdout, "");
  const want = Deno.readTextFileSync(`${FIXTURES}/invalid/bad.expected`);
  equal(r.stderr, want);
});

Deno.test("check-config --json prints one object per file with errors, warnings and job", async () => {
  const r = await runUpkeep([
    "check-config",
    "--json",
    `${FIXTURES}/valid`,
    `${FIXTURES}/invalid/bad.conf`,
  ]);
  equal(r.code, 1);
  equal(r.stderr, "");
  const out = JSON.parse(r.stdout) as Record<string, unknown>[];
  deepEqual(out.map((o) => [String(o.file).replace(FIXTURES + "/", ""), o.valid]), [
    ["valid/app.conf", true],
    ["valid/app.override", true],
    ["valid/seed.conf", true],
    ["valid/waiter.conf", true],
    ["invalid/bad.conf", false],
  ]);
  for (const o of out) deepEqual(Object.keys(o), ["file", "valid", "errors", "warnings", "job"]);
  const app = out[0]!.job as Record<string, unknown>;
  equal(app.name, "app");
  equal(app.startOn, null, "the override's manual applies");
  equal(app.killTimeout, 20);
  equal(app.stopOn, "stopping seed");
  equal(app.exec, `/bin/sh -c 'echo "$GREETING"; sleep 1000'`);
  deepEqual(app.limits, { nofile: { soft: 1024, hard: 4096 } });
  equal(app.umask, 0o027);
  deepEqual(app.normalExit, [0, "TERM"]);
  const seed = out[2]!.job as Record<string, unknown>;
  deepEqual(seed.respawnLimit, { count: 10, interval: 90 });
  equal(seed.startOn, "runlevel 2");
  const bad = out[4]!;
  equal(bad.job, null);
  deepEqual((bad.errors as unknown[])[0], {
    line: 2,
    message: "Illegal limit, expected 'unlimited' or integer",
  });
});

Deno.test("check-config warns about unknown events and jobs without failing", async () => {
  const t = await tempDir();
  try {
    Deno.writeTextFileSync(
      `${t.path}/a.conf`,
      "start on started ghost and mystery-event\nexec x\n",
    );
    const r = await runUpkeep(["check-config", t.path]);
    equal(r.code, 0);
    equal(
      r.stderr,
      `${t.path}/a.conf:1: warning: start on: unknown event mystery-event\n` +
        `${t.path}/a.conf:1: warning: start on: unknown job ghost\n`,
    );
    const q = await runUpkeep(["check-config", "-q", "-i", "mystery-event", t.path]);
    equal(q.stdout, "");
    equal(q.stderr, `${t.path}/a.conf:1: warning: start on: unknown job ghost\n`);
  } finally {
    await t.cleanup();
  }
});

Deno.test("check-config --upstart warns about upkeep extension stanzas", async () => {
  const t = await tempDir();
  try {
    Deno.writeTextFileSync(`${t.path}/h.conf`, "exec x\nhealth tcp localhost:80\n");
    const r = await runUpkeep(["check-config", "--upstart", "--json", `${t.path}/h.conf`]);
    equal(r.code, 0);
    const [o] = JSON.parse(r.stdout);
    deepEqual(o.warnings, [{
      line: 2,
      message: "Not an Upstart stanza: 'health' (upkeep extension)",
    }]);
    equal(o.valid, true);
  } finally {
    await t.cleanup();
  }
});

Deno.test("check-config usage errors exit 2 with one line on stderr", async () => {
  for (const args of [["--bogus", "x"], [], ["-i"]]) {
    const r = await runUpkeep(["check-config", ...args]);
    equal(r.code, 2, args.join(" "));
    equal(r.stderr.trim().split("\n").length, 1);
    ok(r.stderr.startsWith("upkeep check-config: "));
  }
});

Deno.test("check-config on a missing path exits 1", async () => {
  const r = await runUpkeep(["check-config", "/nonexistent/job.conf"]);
  equal(r.code, 1);
  equal(r.stderr, "/nonexistent/job.conf: No such file or directory\n");
});
