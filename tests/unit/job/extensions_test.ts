/** upkeep extension stanzas: respawn delay/retry and health checks. */

import { deepEqual, equal } from "node:assert/strict";
import { parseJob } from "../../../lib/job/parse.ts";
import { parseHostPort, parseSize } from "../../../lib/job/extensions.ts";

const parse = (text: string, upstartOnly = false) =>
  parseJob(text, { name: "t", file: "t", upstartOnly });
const errs = (text: string) =>
  parse(text).diagnostics.filter((d) => d.severity === "error").map((d) =>
    `${d.line}: ${d.message}`
  );

Deno.test("respawn delay and retry accept seconds and unit suffixes", () => {
  const j = parse("respawn delay 500ms 5m\nrespawn retry 1h\n").job!;
  deepEqual(j.respawnDelay, { min: 0.5, max: 300 });
  equal(j.respawnRetry, 3600);
  deepEqual(parse("respawn delay 1 1.5").job?.respawnDelay, { min: 1, max: 1.5 });
  equal(j.respawn, false);
});

Deno.test("respawn delay errors: MIN above MAX, bad durations, missing values", () => {
  deepEqual(errs("respawn delay 5 1"), [
    "1: Illegal respawn delay, expected MIN no greater than MAX",
  ]);
  deepEqual(errs("respawn delay x 1"), [
    "1: Illegal duration, expected seconds or a number with ms, s, m or h",
  ]);
  deepEqual(errs("respawn delay 1"), ["1: Expected token"]);
  deepEqual(errs("respawn retry -1"), [
    "1: Illegal duration, expected seconds or a number with ms, s, m or h",
  ]);
  deepEqual(errs("respawn retry 1 2"), ["1: Unexpected token"]);
});

Deno.test("health checks accumulate; settings have defaults", () => {
  const j = parse([
    "health exec /bin/check --fast # comment",
    "health http http://127.0.0.1:8080/health",
    "health tcp localhost:5432",
    "health tcp [::1]:80",
    "health interval 30s",
    "health timeout 500ms",
    "health retries 5",
    "health memory 512M",
  ].join("\n")).job!;
  deepEqual(j.health, {
    checks: [
      { type: "exec", command: "/bin/check --fast" },
      { type: "http", url: "http://127.0.0.1:8080/health" },
      { type: "tcp", host: "localhost", port: 5432 },
      { type: "tcp", host: "::1", port: 80 },
    ],
    interval: 30,
    timeout: 0.5,
    retries: 5,
    grace: 0,
    memory: 512 * 1024 * 1024,
  });
});

Deno.test("health errors", () => {
  deepEqual(errs("health"), ["1: Expected token"]);
  deepEqual(errs("health ping x"), ["1: Unknown stanza"]);
  deepEqual(errs("health exec"), ["1: Expected token"]);
  deepEqual(errs("health http ftp://x"), ["1: Illegal URL, expected http:// or https:// URL"]);
  deepEqual(errs("health tcp host"), ["1: Illegal address, expected HOST:PORT"]);
  deepEqual(errs("health tcp host:70000"), ["1: Illegal address, expected HOST:PORT"]);
  deepEqual(errs("health retries 0"), ["1: Illegal retry count, expected positive integer"]);
  deepEqual(errs("health memory lots"), [
    "1: Illegal memory size, expected bytes with optional K, M, G or T suffix",
  ]);
});

Deno.test("upstartOnly warns about every extension stanza, without invalidating the file", () => {
  const r = parse("respawn delay 1 2\nhealth tcp a:1\nrespawn\n", true);
  equal(r.job?.respawn, true);
  deepEqual(r.diagnostics.map((d) => `${d.line}: ${d.severity}: ${d.message}`), [
    "1: warning: Not an Upstart stanza: 'respawn delay' (upkeep extension)",
    "2: warning: Not an Upstart stanza: 'health' (upkeep extension)",
  ]);
  equal(parse("health tcp a:1\n").diagnostics.length, 0);
});

Deno.test("parseSize and parseHostPort", () => {
  deepEqual(["100", "1K", "2m", "1.5G", "1T", "10MB", "x", "-1"].map(parseSize), [
    100,
    1024,
    2 * 1024 ** 2,
    1.5 * 1024 ** 3,
    1024 ** 4,
    10 * 1024 ** 2,
    null,
    null,
  ]);
  deepEqual(parseHostPort("[::1]:8080"), { host: "::1", port: 8080 });
  equal(parseHostPort("a:b:1"), null);
  equal(parseHostPort("a:0"), null);
});
