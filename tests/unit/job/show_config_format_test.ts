/** initctl show-config output, plain and enumerated, and check-config's condition warnings. */

import { deepEqual, equal } from "node:assert/strict";
import { parseJob } from "../../../lib/job/parse.ts";
import { formatShowConfig } from "../../../lib/job/show_config_format.ts";
import { checkConditions, formatConditionWarning } from "../../../lib/job/check_events.ts";
import type { JobClass } from "../../../lib/job/model.ts";

const job = (name: string, text: string): JobClass =>
  parseJob(text, { name, file: `${name}.conf` }).job!;

Deno.test("show-config prints emits, start on and stop on in normal form", () => {
  const jobs = [
    job("a", "emits x y*\nstart on (started b and foo K=V) or bar\nstop on stopping b\n"),
    job("b", "exec /bin/b\n"),
  ];
  equal(
    formatShowConfig(jobs, false),
    "a\n  emits x\n  emits y*\n  start on ((started b and foo K=V) or bar)\n  stop on stopping b\nb\n",
  );
});

Deno.test("show-config -e prints one line per operand with its job and environment", () => {
  const jobs = [
    job(
      "a",
      "start on started b or stopped JOB=c RESULT=failed or stopping RESULT=ok JOB=d or runlevel [2345] X!=y\n",
    ),
  ];
  equal(
    formatShowConfig(jobs, true),
    [
      "a",
      "  start on started (job: b, env:)",
      "  start on stopped (job: c, env: RESULT=failed)",
      "  start on stopping (job: d, env: RESULT=ok)",
      "  start on runlevel (job:, env: [2345] X!=y)",
      "",
    ].join("\n"),
  );
});

Deno.test("show-config of no jobs is empty", () => {
  equal(formatShowConfig([], true), "");
});

const warnings = (jobs: JobClass[], opts = {}) =>
  checkConditions(jobs, opts).map((w) => `${w.job}: ${formatConditionWarning(w)}`);

Deno.test("check-config warns about events nobody emits and jobs that do not exist", () => {
  const jobs = [
    job("a", "start on started nosuchjob and custom-event\nstop on stopped b\n"),
    job("b", "emits custom-*\nstart on startup and runlevel [2345] and filesystem\n"),
  ];
  deepEqual(warnings(jobs), ["a: start on: unknown job nosuchjob"]);
  deepEqual(warnings([job("c", "start on frob or startup\n")]), []);
  deepEqual(warnings([job("c", "start on frob or startup\n")], { warnAll: true }), [
    "c: start on: unknown event frob",
  ]);
  deepEqual(warnings([job("c", "start on frob and startup\n")], { ignored: ["frob"] }), []);
  deepEqual(warnings([job("c", "start on x/failed or started $J\n")]), []);
});

Deno.test("check-config reports every unknown name under the first failing operator (initctl quirk)", () => {
  // Right to left, as Upstart's initctl walks its tree.
  deepEqual(warnings([job("c", "start on (a or startup) and b\n")]), [
    "c: start on: unknown event b",
    "c: start on: unknown event a",
  ]);
  deepEqual(warnings([job("c", "start on (a and b) or startup\n")]), [
    "c: start on: unknown event b",
    "c: start on: unknown event a",
  ]);
  // The right operand's failing operator is found first.
  deepEqual(
    warnings([job("c", "start on ((a and b) or startup) and ((c and d) or startup)\n")]),
    ["c: start on: unknown event d", "c: start on: unknown event c"],
  );
});
