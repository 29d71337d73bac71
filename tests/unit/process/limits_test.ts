/** Unit tests of the original open-files limit: /proc/PID/limits parsing and the choice. */

import assert from "node:assert/strict";
import { chooseNofile, parseNofile } from "../../../lib/process/limits.ts";

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

Deno.test("parseNofile() reads Max open files, unlimited as Infinity", () => {
  assert.deepEqual(parseNofile(LIMITS), { soft: 1024, hard: 524288 });
  assert.deepEqual(
    parseNofile("Max open files            unlimited            unlimited            files"),
    { soft: Infinity, hard: Infinity },
  );
  assert.equal(parseNofile("nothing here"), null);
});

Deno.test("chooseNofile() takes UPKEEP_NOFILE first, capped by the hard limit", () => {
  const cur = { soft: 524288, hard: 524288 };
  assert.deepEqual(chooseNofile(cur, "777", { soft: 9, hard: 524288 }), {
    soft: 777,
    hard: 524288,
    source: "UPKEEP_NOFILE",
  });
  assert.equal(chooseNofile({ soft: 100, hard: 100 }, "5000", null).soft, 100);
});

Deno.test("chooseNofile() takes the parent's soft limit when its hard limit is ours", () => {
  const cur = { soft: 4096, hard: 4096 };
  assert.deepEqual(chooseNofile(cur, undefined, { soft: 777, hard: 4096 }), {
    soft: 777,
    hard: 4096,
    source: "the parent process",
  });
  assert.equal(chooseNofile(cur, "junk", { soft: 777, hard: 4096 }).soft, 777);
});

Deno.test("chooseNofile() falls back to 1024 (systemd's and the kernel's soft default)", () => {
  assert.deepEqual(chooseNofile({ soft: 524288, hard: 524288 }, undefined, null), {
    soft: 1024,
    hard: 524288,
    source: "the default (1024)",
  });
  const pid1 = { soft: 1048576, hard: 1048576 }; // systemd's own, not the service's
  assert.equal(chooseNofile({ soft: 524288, hard: 524288 }, undefined, pid1).soft, 1024);
  assert.equal(chooseNofile({ soft: 512, hard: 512 }, undefined, null).soft, 512);
});
