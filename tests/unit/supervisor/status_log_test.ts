/** The status word and --json field of a log the daemon cannot write. */

import { deepEqual, equal } from "node:assert/strict";
import { formatLog, logErrorJson, statusJson } from "../../../lib/supervisor/status.ts";

const failing = {
  file: "/l/web.log",
  error: "cannot write log /l/web.log: No space left on device",
  since: Date.UTC(2024, 4, 1),
  droppedLines: 3,
  droppedBytes: 40,
};

Deno.test("formatLog() says why after the pid, nothing while the log is written", () => {
  equal(formatLog(failing), ", log failing: No space left on device");
  equal(formatLog({ ...failing, error: null, since: null }), "");
  equal(formatLog(null), "");
  equal(formatLog(undefined), "");
});

Deno.test("statusJson() carries logError", () => {
  deepEqual(logErrorJson(failing), {
    message: failing.error,
    since: "2024-05-01T00:00:00.000Z",
    droppedLines: 3,
    droppedBytes: 40,
  });
  const view = {
    job: "web",
    instance: "",
    goal: "start" as const,
    state: "running" as const,
    pids: { main: 5 },
    since: 0,
    respawns: 0,
    lastExit: null,
    logFile: "/l/web.log",
    health: null,
    log: failing,
  };
  equal((statusJson(view, 0).logError as { droppedLines: number }).droppedLines, 3);
  equal(statusJson({ ...view, log: null }, 0).logError, null);
});
