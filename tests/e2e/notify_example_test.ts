/**
 * The failure-notification example (examples/init/notify-failure.conf): its script body is run
 * with `/bin/sh -e` and the environment the daemon would give it (the file's `env` stanzas, the
 * triggering event's variables, UPKEEP_LOG_DIR), delivering through a local script in place of
 * mail (NOTIFY_COMMAND), a fake `sendmail` on PATH, a local HTTP server via curl, or the log.
 */

import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { parseJob } from "../../lib/job/parse.ts";
import { initialMatch, isSatisfied, offerEvent } from "../../lib/events/match.ts";
import { expandVars } from "../../lib/events/expand.ts";
import { REPO_ROOT, tempDir } from "./helpers.ts";

const CONF = `${REPO_ROOT}/examples/init/notify-failure.conf`;
const SCRIPT = `${REPO_ROOT}/examples/notify/notify-failure.sh`;
const UPSTART_PATH = "/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin";

/** The example parsed as the daemon parses it: its script and `env` stanzas. */
async function parsedExample(): Promise<{ script: string; env: Record<string, string> }> {
  const r = parseJob(await Deno.readTextFile(CONF), { name: "notify-failure", file: CONF });
  deepStrictEqual(r.diagnostics, []);
  const main = r.job?.main;
  ok(main && "script" in main, "the example has a main script");
  return { script: main.script, env: { ...r.job!.env } };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function runNotify(env: Record<string, string>): Promise<Run> {
  const example = await parsedExample();
  const out = await new Deno.Command("/bin/sh", {
    args: ["-e", "-c", example.script],
    env: { PATH: UPSTART_PATH, UPSTART_JOB: "notify-failure", ...example.env, ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A log dir holding `name` with lines `line 1` … `line 30`. */
async function logDir(dir: string, name: string): Promise<string> {
  const logs = `${dir}/log`;
  await Deno.mkdir(logs, { recursive: true });
  const text = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join("\n") + "\n";
  await Deno.writeTextFile(`${logs}/${name}`, text);
  return logs;
}

function assertLast20(message: string): void {
  for (let i = 11; i <= 30; i++) ok(message.includes(`line ${i}\n`), `line ${i} in the notice`);
  ok(!message.includes("line 10\n"), "only the last 20 lines");
}

const HOST = Deno.hostname();

Deno.test("the conf's script block and examples/notify/notify-failure.sh are the same script", async () => {
  const conf = await Deno.readTextFile(CONF);
  const { script } = await parsedExample();
  const dedented = script.split("\n").map((l) => l.replace(/^ {4}/, "")).join("\n");
  equal(dedented, await Deno.readTextFile(SCRIPT));
  ok(!conf.includes(REPO_ROOT), "the job file must not depend on the checkout's path");
});

Deno.test("the example is plain Upstart: a task started on stopped RESULT=failed, unhealthy or respawn-failed", async () => {
  const text = await Deno.readTextFile(CONF);
  const r = parseJob(text, { name: "notify-failure", file: CONF, upstartOnly: true });
  deepStrictEqual(r.diagnostics, [], "no stanza real Upstart would reject");
  const job = r.job!;
  equal(job.task, true);
  equal(job.instance, "$JOB${INSTANCE:+-$INSTANCE}");
  const names: string[] = [];
  const walk = (e: typeof job.startOn): void => {
    if (!e) return;
    if (e.type === "event") names.push(e.name);
    else {
      walk(e.left);
      walk(e.right);
    }
  };
  walk(job.startOn);
  deepStrictEqual(names, ["stopped", "unhealthy", "respawn-failed"]);
  const stopped = job.startOn?.type === "or" && job.startOn.left.type === "or"
    ? job.startOn.left.left
    : null;
  deepStrictEqual(stopped, {
    type: "event",
    name: "stopped",
    args: [
      { kind: "named", key: "RESULT", value: "failed", negated: false },
      { kind: "named", key: "PROCESS", value: "respawn", negated: true },
      { kind: "named", key: "JOB", value: "notify-failure", negated: true },
    ],
  });
});

Deno.test("the example starts on failures, unhealthy and respawn-failed, and on nothing else", async () => {
  const job = parseJob(await Deno.readTextFile(CONF), { name: "notify-failure", file: CONF }).job!;
  const starts = (name: string, env: Record<string, string>) =>
    isSatisfied(
      offerEvent(initialMatch(job.startOn!), { id: 1, name, env: Object.entries(env) }).node,
    );
  const table: [string, Record<string, string>, boolean][] = [
    [
      "stopped",
      { JOB: "web", INSTANCE: "", RESULT: "failed", PROCESS: "main", EXIT_STATUS: "3" },
      true,
    ],
    ["stopped", {
      JOB: "db",
      INSTANCE: "x",
      RESULT: "failed",
      PROCESS: "pre-start",
      EXIT_SIGNAL: "KILL",
    }, true],
    ["stopped", { JOB: "web", INSTANCE: "", RESULT: "ok" }, false],
    ["stopped", { JOB: "web", INSTANCE: "", RESULT: "failed", PROCESS: "respawn" }, false],
    [
      "stopped",
      { JOB: "notify-failure", INSTANCE: "web", RESULT: "failed", PROCESS: "main" },
      false,
    ],
    ["unhealthy", { JOB: "web", INSTANCE: "", REASON: "3 failures: HTTP 503" }, true],
    ["respawn-failed", { JOB: "web", INSTANCE: "", EXIT_STATUS: "1" }, true],
    ["started", { JOB: "web", INSTANCE: "" }, false],
  ];
  for (const [name, env, want] of table) {
    equal(starts(name, env), want, `${name} ${JSON.stringify(env)}`);
  }
  equal(expandVars(job.instance, { JOB: "web", INSTANCE: "" }), "web");
  equal(expandVars(job.instance, { JOB: "net/apache", INSTANCE: "blue" }), "net/apache-blue");
});

Deno.test("notify: a failed job's name, reason and last 20 log lines go to NOTIFY_COMMAND", async () => {
  const dir = await tempDir();
  try {
    const logs = await logDir(dir.path, "web.log");
    const r = await runNotify({
      JOB: "web",
      INSTANCE: "",
      RESULT: "failed",
      PROCESS: "main",
      EXIT_STATUS: "3",
      UPSTART_EVENTS: "stopped",
      UPKEEP_LOG_DIR: logs,
      NOTIFY_COMMAND: `cat > ${dir.path}/mail`,
    });
    equal(r.code, 0, r.stderr);
    match(r.stdout, /notice about web handed to NOTIFY_COMMAND/);
    const mail = await Deno.readTextFile(`${dir.path}/mail`);
    const summary = `[upkeep] web on ${HOST}: RESULT=failed PROCESS=main EXIT_STATUS=3`;
    ok(mail.startsWith(`To: root\nSubject: ${summary}\n`), mail);
    match(mail, /^Job: {6}web$/m);
    match(mail, /^Event: {4}stopped$/m);
    match(mail, /^Reason: {3}RESULT=failed PROCESS=main EXIT_STATUS=3$/m);
    ok(mail.includes(`Log:      ${logs}/web.log\n`));
    assertLast20(mail);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("notify: an unhealthy instance reads JOB-INSTANCE.log and passes REASON", async () => {
  const dir = await tempDir();
  try {
    const logs = await logDir(dir.path, "net_apache-blue.log");
    const r = await runNotify({
      JOB: "net/apache",
      INSTANCE: "blue",
      REASON: "3 failures: HTTP 503",
      UPSTART_EVENTS: "unhealthy",
      UPKEEP_LOG_DIR: logs,
      NOTIFY_COMMAND: `cat > ${dir.path}/mail`,
    });
    equal(r.code, 0, r.stderr);
    const mail = await Deno.readTextFile(`${dir.path}/mail`);
    match(mail, /^Subject: \[upkeep\] net\/apache \(blue\) on .*: REASON=3 failures: HTTP 503$/m);
    ok(mail.includes(`Log:      ${logs}/net_apache-blue.log\n`));
    assertLast20(mail);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("notify: a respawn give-up with a signal, and a missing log, still send a notice", async () => {
  const dir = await tempDir();
  try {
    const r = await runNotify({
      JOB: "worker",
      INSTANCE: "",
      EXIT_SIGNAL: "KILL",
      UPSTART_EVENTS: "respawn-failed",
      UPKEEP_LOG_DIR: `${dir.path}/nowhere`,
      NOTIFY_COMMAND: `cat > ${dir.path}/mail`,
    });
    equal(r.code, 0, r.stderr);
    const mail = await Deno.readTextFile(`${dir.path}/mail`);
    match(mail, /^Reason: {3}EXIT_SIGNAL=KILL$/m);
    ok(mail.includes(`(no readable log at ${dir.path}/nowhere/worker.log)`));
  } finally {
    await dir.cleanup();
  }
});

Deno.test("notify: mails with sendmail -t when it is on PATH", async () => {
  const dir = await tempDir();
  try {
    const bin = `${dir.path}/bin`;
    await Deno.mkdir(bin);
    await Deno.writeTextFile(
      `${bin}/sendmail`,
      `#!/bin/sh\necho "$@" > ${dir.path}/args\ncat > ${dir.path}/mail\n`,
      { mode: 0o755 },
    );
    const logs = await logDir(dir.path, "web.log");
    const r = await runNotify({
      PATH: `${bin}:${UPSTART_PATH}`,
      JOB: "web",
      INSTANCE: "",
      RESULT: "failed",
      PROCESS: "pre-start",
      EXIT_STATUS: "1",
      UPKEEP_LOG_DIR: logs,
      NOTIFY_TO: "ops@example.com",
    });
    equal(r.code, 0, r.stderr);
    match(r.stdout, /mailed to ops@example.com/);
    equal(await Deno.readTextFile(`${dir.path}/args`), "-t\n");
    const mail = await Deno.readTextFile(`${dir.path}/mail`);
    ok(mail.startsWith("To: ops@example.com\nSubject: [upkeep] web on "), mail);
    assertLast20(mail);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("notify: POSTs to NOTIFY_URL with curl when not mailing", async () => {
  const dir = await tempDir();
  const got: { body: string; job: string | null; type: string | null }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    got.push({
      body: await req.text(),
      job: req.headers.get("x-upkeep-job"),
      type: req.headers.get("content-type"),
    });
    return new Response("ok");
  });
  try {
    const logs = await logDir(dir.path, "web.log");
    const url = `http://127.0.0.1:${server.addr.port}/hook`;
    const r = await runNotify({
      JOB: "web",
      INSTANCE: "",
      RESULT: "failed",
      PROCESS: "main",
      EXIT_STATUS: "2",
      UPKEEP_LOG_DIR: logs,
      NOTIFY_TO: "",
      NOTIFY_URL: url,
    });
    equal(r.code, 0, r.stderr);
    match(r.stdout, /posted to http:\/\/127\.0\.0\.1/);
    equal(got.length, 1);
    deepStrictEqual([got[0]!.job, got[0]!.type], ["web", "text/plain; charset=utf-8"]);
    ok(
      got[0]!.body.startsWith(
        `[upkeep] web on ${HOST}: RESULT=failed PROCESS=main EXIT_STATUS=2\n`,
      ),
    );
    assertLast20(got[0]!.body);
  } finally {
    await server.shutdown();
    await dir.cleanup();
  }
});

Deno.test("notify: with nothing to deliver through, the notice goes to the job's log", async () => {
  const dir = await tempDir();
  try {
    const logs = await logDir(dir.path, "web.log");
    const r = await runNotify({
      JOB: "web",
      INSTANCE: "",
      REASON: "memory 612 MiB > 512 MiB",
      UPKEEP_LOG_DIR: logs,
      NOTIFY_TO: "",
    });
    equal(r.code, 0, r.stderr);
    match(r.stdout, /^notify-failure: no NOTIFY_COMMAND, sendmail or NOTIFY_URL with curl/);
    match(r.stdout, /^Reason: {3}REASON=memory 612 MiB > 512 MiB$/m);
    assertLast20(r.stdout);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("notify: a delivery that fails is logged and the task still succeeds", async () => {
  const dir = await tempDir();
  try {
    const logs = await logDir(dir.path, "web.log");
    const r = await runNotify({
      JOB: "web",
      INSTANCE: "",
      RESULT: "failed",
      PROCESS: "main",
      EXIT_STATUS: "1",
      UPKEEP_LOG_DIR: logs,
      NOTIFY_COMMAND: "cat >/dev/null; exit 7",
    });
    equal(r.code, 0, r.stderr);
    match(r.stdout, /^notify-failure: NOTIFY_COMMAND failed; the notice follows$/m);
    assertLast20(r.stdout);
  } finally {
    await dir.cleanup();
  }
});
