/** Unit tests of `upkeep run` outcomes: exit statuses, summary lines, back-off and default paths. */

import assert from "node:assert/strict";
import {
  attemptExitCode,
  exitCodeOf,
  retryDelay,
  summaryJson,
  summaryLine,
} from "../../../lib/run/summary.ts";
import { lockPathFor, logPathFor } from "../../../lib/run/paths.ts";

Deno.test("exit status is the code, or 128+N for signal N; timeout 124", () => {
  assert.equal(exitCodeOf({ code: 3, signal: null }), 3);
  assert.equal(exitCodeOf({ code: null, signal: "KILL" }), 137);
  assert.equal(attemptExitCode({ kind: "timeout" }), 124);
  assert.equal(attemptExitCode({ kind: "interrupted", signal: "INT" }), 130);
});

Deno.test("summaryLine() reads as the issue shows, for failure and success", () => {
  const log = "/var/log/upkeep/backup.log";
  assert.equal(
    summaryLine({
      job: "backup",
      end: { kind: "exited", status: { code: 3, signal: null } },
      tries: 2,
      seconds: 41.23,
      log,
    }),
    "backup: failed after 2 tries, exit 3, 41.2 s, log: /var/log/upkeep/backup.log",
  );
  assert.equal(
    summaryLine({
      job: "backup",
      end: { kind: "exited", status: { code: 0, signal: null } },
      tries: 1,
      seconds: 0.31,
      log,
    }),
    "backup: ok, 1 try, 0.3 s, log: /var/log/upkeep/backup.log",
  );
  assert.equal(
    summaryLine({ job: "j", end: { kind: "timeout" }, tries: 1, seconds: 5, log: null }),
    "j: timed out after 1 try, exit 124, 5.0 s",
  );
});

Deno.test("summaryJson() gives result, exit, signal, tries, seconds and log", () => {
  const s = JSON.parse(summaryJson({
    job: "j",
    end: { kind: "exited", status: { code: null, signal: "TERM" } },
    tries: 3,
    seconds: 1.23456,
    log: null,
  }));
  assert.deepEqual(s, {
    job: "j",
    result: "failed",
    exit: 143,
    signal: "TERM",
    tries: 3,
    seconds: 1.235,
    log: null,
  });
});

Deno.test("retryDelay() doubles from the base and caps at one hour", () => {
  assert.deepEqual([1, 2, 3, 4].map((n) => retryDelay(1, n)), [1, 2, 4, 8]);
  assert.equal(retryDelay(60, 20), 3600);
});

Deno.test("default lock and log paths depend on root, XDG dirs and HOME", () => {
  const root = { uid: 0, env: {} };
  assert.equal(lockPathFor("net/backup", root), "/run/upkeep/locks/net_backup.lock");
  assert.equal(logPathFor("backup", root, null), "/var/log/upkeep/backup.log");
  const user = { uid: 1000, env: { HOME: "/home/u", XDG_RUNTIME_DIR: "/run/user/1000" } };
  assert.equal(lockPathFor("b", user), "/run/user/1000/upkeep/locks/b.lock");
  assert.equal(logPathFor("b", user, null), "/home/u/.local/state/upkeep/log/b.log");
  assert.equal(
    lockPathFor("b", { uid: 5, env: { HOME: "/h" } }),
    "/h/.local/state/upkeep/locks/b.lock",
  );
  assert.throws(() => lockPathFor("b", { uid: 5, env: {} }), /no home directory for uid 5/);
  assert.equal(
    logPathFor("b", { uid: 5, env: { XDG_STATE_HOME: "/s" } }, null),
    "/s/upkeep/log/b.log",
  );
  assert.equal(logPathFor("b", user, "/logs"), "/logs/b.log");
});
