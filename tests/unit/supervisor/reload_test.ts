/** daemonLine(): a job file's diagnostics as the daemon logs them, in Upstart's words. */

import { equal } from "node:assert/strict";
import { daemonLine } from "../../../lib/supervisor/reload.ts";

Deno.test("daemonLine() names the line, except for a bad signal (as Upstart's init)", () => {
  equal(
    daemonLine({ file: "/c/a.conf", line: 3, message: "Unknown stanza", severity: "error" }),
    "/c/a.conf:3: Unknown stanza",
  );
  equal(
    daemonLine({
      file: "/c/a.conf",
      line: 2,
      message: "Illegal signal status, expected integer",
      severity: "error",
    }),
    "/c/a.conf: Error while loading configuration file: Illegal signal status, expected integer",
  );
});
