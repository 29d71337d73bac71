/** Table tests for the pure respawn back-off rules and exit descriptions (lib/health/backoff.ts). */

import { deepStrictEqual, equal } from "node:assert/strict";
import {
  describeExit,
  resetAfterSeconds,
  respawnDelaySeconds,
  shouldResetBackoff,
} from "../../../lib/health/backoff.ts";

Deno.test("respawnDelaySeconds() doubles from MIN and stops at MAX", () => {
  const table: [number, number, number[]][] = [
    [1, 60, [1, 2, 4, 8, 16, 32, 60, 60, 60]],
    [5, 300, [5, 10, 20, 40, 80, 160, 300, 300]],
    [2, 2, [2, 2, 2]],
    [0.5, 3, [0.5, 1, 2, 3, 3]],
    [10, 15, [10, 15, 15]],
  ];
  for (const [min, max, want] of table) {
    const got = want.map((_, i) => respawnDelaySeconds(min, max, i + 1));
    deepStrictEqual(got, want, `respawn delay ${min} ${max}`);
  }
});

Deno.test("respawnDelaySeconds() counts a consecutive below 1 as the first failure", () => {
  equal(respawnDelaySeconds(3, 60, 0), 3);
  equal(respawnDelaySeconds(3, 60, -4), 3);
  equal(respawnDelaySeconds(3, 60, Number.NaN), 3);
});

Deno.test("respawnDelaySeconds() stays at MAX for huge counts without overflowing", () => {
  equal(respawnDelaySeconds(1, 3600, 5000), 3600);
  equal(respawnDelaySeconds(1, 3600, Number.MAX_SAFE_INTEGER), 3600);
});

Deno.test("respawnDelaySeconds() caps at MAX when MAX is below MIN, and treats junk as 0", () => {
  equal(respawnDelaySeconds(10, 4, 1), 4);
  equal(respawnDelaySeconds(0, 60, 7), 0);
  equal(respawnDelaySeconds(-1, 60, 2), 0);
  equal(respawnDelaySeconds(1, Number.POSITIVE_INFINITY, 3), 0);
});

Deno.test("shouldResetBackoff() resets once the job ran at least MAX seconds", () => {
  const table: [number, number, number, boolean][] = [
    [1, 60, 0, false],
    [1, 60, 59.9, false],
    [1, 60, 60, true],
    [1, 60, 3600, true],
    [5, 300, 299, false],
    [5, 300, 300, true],
    [10, 4, 9, false], // MAX below MIN: the larger of the two is the threshold
    [10, 4, 10, true],
  ];
  for (const [min, max, uptime, want] of table) {
    equal(shouldResetBackoff(min, max, uptime), want, `delay ${min} ${max}, uptime ${uptime}`);
  }
  equal(resetAfterSeconds(1, 60), 60);
});

Deno.test("describeExit() says exit status or the signal without SIG", () => {
  const table: [number | null, string | null, string][] = [
    [0, null, "exit status 0"],
    [3, null, "exit status 3"],
    [137, "SIGKILL", "killed by signal KILL"],
    [null, "TERM", "killed by signal TERM"],
    [null, "35", "killed by signal 35"],
    [null, null, "exit status unknown"],
    [2, "", "exit status 2"],
  ];
  for (const [code, signal, want] of table) equal(describeExit(code, signal), want);
});
