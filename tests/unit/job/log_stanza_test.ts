/** The `log` extension stanza. */

import { deepEqual, equal } from "node:assert/strict";
import { parseJob } from "../../../lib/job/parse.ts";
import { JOB_LOG_DEFAULTS } from "../../../lib/job/model.ts";

const parse = (text: string, upstartOnly = false) =>
  parseJob(text, { name: "t", file: "t", upstartOnly });
const errs = (text: string) =>
  parse(text).diagnostics.filter((d) => d.severity === "error").map((d) =>
    `${d.line}: ${d.message}`
  );

Deno.test("a job without log stanzas has every log setting unset", () => {
  deepEqual(parse("exec x\n").job!.log, JOB_LOG_DEFAULTS);
});

Deno.test("log stanzas set rotation, age, timestamps, markers and compression", () => {
  const j = parse(
    "log rotate 10M 20\nlog max-age 7\nlog timestamps tai64n\nlog markers\nlog compress on\n",
  ).job!;
  deepEqual(j.log, {
    rotate: { size: 10 * 1024 * 1024, keep: 20 },
    maxAge: 7 * 86400,
    timestamps: "tai64n",
    markers: true,
    compress: true,
  });
});

Deno.test("log stanza words: off, bare timestamps, durations for max-age", () => {
  const j = parse("log rotate off\nlog timestamps\nlog markers off\nlog max-age 12h\n").job!;
  equal(j.log.rotate, "off");
  equal(j.log.timestamps, "rfc3339");
  equal(j.log.markers, false);
  equal(j.log.maxAge, 12 * 3600);
  equal(parse("log max-age off\n").job!.log.maxAge, "off");
  equal(parse("log timestamps off\n").job!.log.timestamps, "off");
});

Deno.test("log stanza errors", () => {
  deepEqual(errs("log rotate 10X 3"), [
    "1: Illegal log size, expected bytes with optional K, M, G or T suffix",
  ]);
  deepEqual(errs("log rotate 100 3"), [
    "1: Illegal log size, expected bytes with optional K, M, G or T suffix",
  ]);
  deepEqual(errs("log rotate 10M 2000"), ["1: Illegal log file count, expected 0 to 1000"]);
  deepEqual(errs("log rotate 10M"), ["1: Expected token"]);
  deepEqual(errs("log max-age soon"), [
    "1: Illegal log age, expected days or a duration with m, h or d",
  ]);
  deepEqual(errs("log timestamps iso"), [
    "1: Illegal timestamp format, expected rfc3339, tai64n or off",
  ]);
  deepEqual(errs("log markers maybe"), ["1: Illegal value, expected on or off"]);
  deepEqual(errs("log rotate 10M 3 extra"), ["1: Unexpected token"]);
  deepEqual(errs("log nonsense"), ["1: Unknown stanza"]);
});

Deno.test("check-config --upstart warns about the log stanza", () => {
  const w = parse("log rotate 1M 2\n", true).diagnostics.filter((d) => d.severity === "warning");
  deepEqual(w.map((d) => d.message), ["Not an Upstart stanza: 'log rotate' (upkeep extension)"]);
});

Deno.test("an override's log stanza changes only what it names", () => {
  const base = parse("log rotate 1M 2\nlog markers\n").job!;
  const over = parseJob("log timestamps\n", { name: "t", file: "t.override", base }).job!;
  deepEqual(over.log, { ...base.log, timestamps: "rfc3339" });
});
