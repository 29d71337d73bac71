/**
 * End-to-end: the failure-notification example (examples/init/notify-failure.conf) in a real
 * daemon's conf dir, configured the way its comment tells a user to (editing its `env
 * NOTIFY_COMMAND=` line to name a local script in place of mail), receives the job name, the
 * reason and the last 20 log lines when a job fails, turns unhealthy and gives up respawning.
 */

import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { TestDaemon } from "./daemon_helpers.ts";
import { REPO_ROOT, waitFor } from "./helpers.ts";

const EXAMPLE = `${REPO_ROOT}/examples/init/notify-failure.conf`;

/** A job body that prints `NAME line 1` … `NAME line 30` to its log first. */
function thirtyLines(name: string): string {
  return `for i in $(seq 1 30); do echo "${name} line $i"; done`;
}

/** The example with its NOTIFY_COMMAND line set to `command`, as a user edits it. */
function configuredExample(command: string): string {
  const text = Deno.readTextFileSync(EXAMPLE);
  const line = /^env NOTIFY_COMMAND=$/m;
  ok(line.test(text), "the example has an empty `env NOTIFY_COMMAND=` line to fill in");
  return text.replace(line, `env NOTIFY_COMMAND=${command}`);
}

/** The notices the sink received, by the `Job:` line of each. */
function notices(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  try {
    for (const e of Deno.readDirSync(dir)) {
      const text = Deno.readTextFileSync(`${dir}/${e.name}`);
      const job = /^Job: +(.*)$/m.exec(text)?.[1];
      if (job) out.set(job, text);
    }
  } catch { /* nothing yet */ }
  return out;
}

function assertLast20(notice: string, name: string): void {
  for (let i = 11; i <= 30; i++) {
    ok(notice.includes(`${name} line ${i}\n`), `${name} line ${i} in the notice:\n${notice}`);
  }
  ok(!notice.includes(`${name} line 10\n`), `only the last 20 lines:\n${notice}`);
}

Deno.test({
  name: "notify example: a failed, an unhealthy and a given-up job each send one notice",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const d = await TestDaemon.create();
    try {
      const mail = `${d.dir}/mail`;
      Deno.mkdirSync(mail);
      const sink = `${d.dir}/sink.sh`;
      // The stand-in for sendmail: one file per notice, named so that none overwrites another.
      Deno.writeTextFileSync(sink, `#!/bin/sh\ncat > ${mail}/notice.$$\n`);
      Deno.chmodSync(sink, 0o755);
      d.writeJob("notify-failure", configuredExample(sink));
      d.writeJob(
        "crash",
        `script\n    ${thirtyLines("crash")}\n    exit 3\nend script\n`,
      );
      d.writeJob(
        "web",
        `health exec false
health interval 0.2
health retries 2
script
    ${thirtyLines("web")}
    exec sleep 1000
end script
`,
      );
      d.writeJob(
        "flaky",
        `respawn
respawn limit 1 10
script
    ${thirtyLines("flaky")}
    exit 4
end script
`,
      );
      await d.start();
      equal((await d.initctl("check-config", "notify-failure")).code, 0);
      await d.initctl("start", "crash");
      await d.initctl("start", "web");
      await d.initctl("start", "flaky");

      await waitFor(
        () => {
          const n = notices(mail);
          return n.size >= 3 ? n : null;
        },
        "three notices",
        15_000,
      );
      // Every notice task has finished (no instance of notify-failure is left to send a fourth).
      await waitFor(
        async () => !/^notify-failure \(/m.test((await d.initctl("list")).stdout),
        "notify-failure tasks done",
      );
      // Read once every sender is done: a notice seen earlier may still be being written.
      const got = notices(mail);
      deepStrictEqual([...got.keys()].sort(), ["crash", "flaky", "web"]);

      const crash = got.get("crash")!;
      match(crash, /^To: root$/m);
      match(crash, /^Subject: \[upkeep\] crash on .*: RESULT=failed PROCESS=main EXIT_STATUS=3$/m);
      match(crash, /^Event: {4}stopped$/m);
      ok(crash.includes(`Log:      ${d.logs}/crash.log\n`), crash);
      assertLast20(crash, "crash");

      const web = got.get("web")!;
      match(web, /^Event: {4}unhealthy$/m);
      match(web, /^Reason: {3}REASON=2 failures: exit 1$/m);
      assertLast20(web, "web");

      const flaky = got.get("flaky")!;
      match(flaky, /^Event: {4}respawn-failed$/m);
      match(flaky, /^Reason: {3}EXIT_STATUS=4$/m);
      ok(flaky.includes(`Log:      ${d.logs}/flaky.log\n`), flaky);
      assertLast20(flaky, "flaky");

      await d.waitLog("notify-failure-crash.log", /notice about crash handed to NOTIFY_COMMAND/);
    } catch (e) {
      console.error(`--- daemon output ---\n${d.output}`);
      throw e;
    } finally {
      await d.close();
    }
  },
});
