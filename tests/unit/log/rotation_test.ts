/** Rotated file names, rotation plans and retention by age. */

import { deepEqual, equal } from "node:assert/strict";
import {
  expiredFiles,
  parseRotated,
  planRotation,
  rotatedFiles,
  rotatedName,
} from "../../../lib/log/rotation.ts";

Deno.test("rotatedName() and parseRotated() name files as logrotate does", () => {
  equal(rotatedName("web.log", 1, false), "web.log.1");
  equal(rotatedName("web.log", 12, true), "web.log.12.gz");
  deepEqual(parseRotated("web.log", "web.log.3"), { n: 3, gz: false });
  deepEqual(parseRotated("web.log", "web.log.3.gz"), { n: 3, gz: true });
  equal(parseRotated("web.log", "web.log"), null);
  equal(parseRotated("web.log", "web.log.0"), null);
  equal(parseRotated("web.log", "web.log.1.gz.tmp"), null);
  equal(parseRotated("web.log", "web.log.x"), null);
  equal(parseRotated("web", "web-2.log.1"), null);
});

Deno.test("rotatedFiles() lists the oldest first, a plain file before its .gz twin", () => {
  deepEqual(
    rotatedFiles("a.log", ["a.log", "a.log.1", "a.log.10", "a.log.2.gz", "a.log.2", "b.log.1"])
      .map((f) => f.name),
    ["a.log.10", "a.log.2", "a.log.2.gz", "a.log.1"],
  );
});

Deno.test("planRotation() shifts old files up, highest first, then moves the current file", () => {
  deepEqual(planRotation("a.log", ["a.log", "a.log.1", "a.log.2"], 5), [
    { rename: "a.log.2", to: "a.log.3" },
    { rename: "a.log.1", to: "a.log.2" },
    { rename: "a.log", to: "a.log.1" },
  ]);
});

Deno.test("planRotation() drops what would pass keep", () => {
  deepEqual(planRotation("a.log", ["a.log", "a.log.1", "a.log.2", "a.log.3"], 2), [
    { remove: "a.log.3" },
    { remove: "a.log.2" },
    { rename: "a.log.1", to: "a.log.2" },
    { rename: "a.log", to: "a.log.1" },
  ]);
});

Deno.test("planRotation() keeps compressed names and the .gz of a cut-short compression", () => {
  deepEqual(planRotation("a.log", ["a.log", "a.log.1", "a.log.1.gz", "a.log.2.gz"], 5), [
    { remove: "a.log.1" },
    { rename: "a.log.2.gz", to: "a.log.3.gz" },
    { rename: "a.log.1.gz", to: "a.log.2.gz" },
    { rename: "a.log", to: "a.log.1" },
  ]);
});

Deno.test("planRotation() with keep 0 removes the current file; gaps stay gaps", () => {
  deepEqual(planRotation("a.log", ["a.log", "a.log.1"], 0), [
    { remove: "a.log.1" },
    { remove: "a.log" },
  ]);
  deepEqual(planRotation("a.log", ["a.log", "a.log.3"], 5), [
    { rename: "a.log.3", to: "a.log.4" },
    { rename: "a.log", to: "a.log.1" },
  ]);
});

Deno.test("expiredFiles() picks files older than the age", () => {
  const day = 86_400_000;
  const now = 100 * day;
  deepEqual(
    expiredFiles(
      [
        { name: "a.log.1", mtimeMs: now - day },
        { name: "a.log.2", mtimeMs: now - 8 * day },
        { name: "a.log.3", mtimeMs: now - 7 * day },
      ],
      now,
      7 * 86400,
    ),
    ["a.log.2"],
  );
});
