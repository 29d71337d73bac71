/**
 * End-to-end: health checks, respawn back-off and respawn retry through the real daemon and the
 * real initctl, on real processes. Each test runs its own daemon in a temp dir (TestDaemon) and
 * leaves nothing behind. Intervals are fractions of a second so the file runs in seconds.
 */

import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { jobProcesses, TestDaemon } from "./daemon_helpers.ts";
import { pidAlive, waitFor } from "./helpers.ts";

/** A test with its own daemon; `jobs` gets the daemon's temp dir to place marker files in. */
function daemonTest(
  name: string,
  jobs: (dir: string) => Record<string, string>,
  fn: (d: TestDaemon) => Promise<void>,
): void {
  Deno.test({
    name,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const d = await TestDaemon.create();
      try {
        for (const [job, text] of Object.entries(jobs(d.dir))) d.writeJob(job, text);
        await d.start();
        await fn(d);
      } catch (e) {
        console.error(`--- daemon output of "${name}" ---\n${d.output}`);
        throw e;
      } finally {
        await d.close();
      }
    },
  });
}

/** A port on 127.0.0.1 nobody listens on (bound, then released). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function lines(path: string): string[] {
  try {
    return Deno.readTextFileSync(path).split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
}

/** Wait until the daemon's log matches `re` (its lines are written just after the work). */
async function logged(d: TestDaemon, re: RegExp): Promise<void> {
  await waitFor(() => re.test(d.output), `daemon log ${re}`, 3000);
}

/** The lines of `path` once it has any (for waitFor), else null. */
function someLines(path: string): string[] | null {
  const l = lines(path);
  return l.length ? l : null;
}

/** A different main pid than `old`, once the job runs again. */
async function newMainPid(d: TestDaemon, job: string, old: number): Promise<number> {
  return await waitFor(async () => {
    const pid = await d.mainPid(job);
    return pid !== null && pid !== old ? pid : null;
  }, `${job} running with a new pid`);
}

/**
 * An HTTP server that answers 200 until MARKER appears; then it removes the marker, ignores
 * SIGTERM and hangs in the request forever: alive, listening, answering nothing.
 */
const HANGING_SERVER = `
import http.server, os, signal, sys, time
port, marker = int(sys.argv[1]), sys.argv[2]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if os.path.exists(marker):
            os.remove(marker)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            print("hanging now", flush=True)
            while True:
                time.sleep(1000)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok\\n")
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", port), Handler)
print("listening on", port, flush=True)
server.serve_forever()
`;

let webPort = 0;
daemonTest(
  "a server that stops answering HTTP is declared unhealthy, announced and restarted",
  (dir) => {
    webPort = freePort();
    Deno.writeTextFileSync(`${dir}/server.py`, HANGING_SERVER);
    return {
      web: `respawn
kill timeout 1
health http http://127.0.0.1:${webPort}/healthz
health grace 0.3
health interval 0.2
health timeout 0.3
health retries 2
exec /usr/bin/python3 ${dir}/server.py ${webPort} ${dir}/hang
`,
      "web-alert": `start on unhealthy JOB=web
task
script
    echo "$JOB|$INSTANCE|$REASON" >> ${dir}/alerts
end script
`,
    };
  },
  async (d) => {
    equal((await d.initctl("start", "web")).code, 0);
    const first = await d.waitRunning("web");
    match(
      await d.waitStatus("web", /, healthy$/),
      new RegExp(`^web start/running, process ${first}, healthy`),
    );
    Deno.writeTextFileSync(`${d.dir}/hang`, "");

    // The SIGTERM the restart sends is ignored, so the kill timeout holds it in `killed` for 1 s:
    // long enough to see the verdict in status.
    const status = await d.waitStatus("web", /unhealthy/);
    match(
      status,
      new RegExp(
        `^web start/killed, process ${first}, unhealthy: 2 failures: timed out after 0\\.3s$`,
        "m",
      ),
    );
    ok(pidAlive(first), "the hung server is alive while the kill timeout runs");
    const alerts = await waitFor(
      () => someLines(`${d.dir}/alerts`),
      "the unhealthy event's listener",
    );
    deepStrictEqual(alerts, ["web||2 failures: timed out after 0.3s"]);

    const second = await newMainPid(d, "web", first);
    await waitFor(() => !pidAlive(first), "the hung server is gone");
    match(
      await d.waitStatus("web", /, healthy$/),
      new RegExp(`^web start/running, process ${second}, healthy`),
    );
    await logged(d, /web health check failed \(1\): timed out after 0\.3s/);
    await logged(d, /web is unhealthy: 2 failures: timed out after 0\.3s/);
    await logged(d, /web restarting \(unhealthy\)/);
    await logged(d, new RegExp(`web process \\(${first}\\) killed after kill timeout`));
    match(d.readLog("web.log"), /hanging now/);
    const json = JSON.parse((await d.initctl("status", "--json", "web")).stdout);
    equal(json[0].pid, second);
    equal(json[0].health.healthy, true);
    match(json[0].health.detail, /^HTTP 200$/);
    equal(lines(`${d.dir}/alerts`).length, 1, "one unhealthy event");
  },
);

daemonTest(
  "an unhealthy job with a pre-stop script is restarted, not left running",
  (dir) => ({
    api: `respawn
health exec test ! -e ${dir}/sick
health interval 0.2
health retries 1
pre-stop exec echo pre-stop ran
exec sleep 1000
`,
  }),
  async (d) => {
    await d.initctl("start", "api");
    const first = await d.waitRunning("api");
    Deno.writeTextFileSync(`${d.dir}/sick`, "");
    await waitFor(() => /api is unhealthy: 1 failure: exit 1/.test(d.output), "the verdict");
    Deno.removeSync(`${d.dir}/sick`);
    const second = await newMainPid(d, "api", first);
    await waitFor(() => !pidAlive(first), "the unhealthy process is gone");
    match(
      await d.waitStatus("api", /, healthy$/),
      new RegExp(`^api start/running, process ${second}, healthy`),
    );
  },
);

let closedPort = 0;
daemonTest(
  "a tcp check against a closed port fails with ECONNREFUSED in status, --json and the log",
  (_dir) => {
    closedPort = freePort();
    return {
      db: `health tcp 127.0.0.1:${closedPort}
health interval 0.2
health timeout 0.5
health retries 2
exec sleep 1000
`,
    };
  },
  async (d) => {
    await d.initctl("start", "db");
    const pid = await d.waitRunning("db");
    const detail = `connect ECONNREFUSED 127.0.0.1:${closedPort}`;
    const status = await d.waitStatus("db", /unhealthy/);
    // 2 failures make the verdict; checks go on, so a slow poll may see a later count.
    const seen = status.trim().match(
      /^db start\/running, process (\d+), unhealthy: (\d+) failures: (.*)$/,
    );
    ok(seen, status);
    deepStrictEqual([Number(seen[1]), Number(seen[2]) >= 2, seen[3]], [pid, true, detail]);
    const esc = detail.replace(/\./g, "\\.");
    await logged(d, new RegExp(`db health check failed \\(1\\): ${esc}`));
    await logged(d, new RegExp(`db is unhealthy: 2 failures: ${esc}`));
    ok(!/db restarting/.test(d.output), "no respawn stanza: not restarted");
    const json = JSON.parse((await d.initctl("status", "--json", "db")).stdout);
    equal(json[0].health.healthy, false);
    equal(json[0].health.detail, detail);
    ok(json[0].health.failures >= 2);
    equal(await d.mainPid("db"), pid);

    // Checks go on after the verdict: once something listens, the job shows healthy again.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: closedPort });
    try {
      await d.waitStatus("db", new RegExp(`^db start/running, process ${pid}, healthy$`));
      await logged(d, /db is healthy again/);
    } finally {
      listener.close();
    }
  },
);

daemonTest(
  "an exec check that hangs is killed at its timeout and leaves no process behind",
  (dir) => ({
    slow: `health exec echo $$ >> ${dir}/check-pids; exec sleep 977
health interval 0.2
health timeout 0.3
health retries 2
exec sleep 1000
`,
  }),
  async (d) => {
    await d.initctl("start", "slow");
    const pid = await d.waitRunning("slow");
    const status = await d.waitStatus("slow", /unhealthy/);
    match(
      status.trim(),
      new RegExp(
        `^slow start/running, process ${pid}, unhealthy: \\d+ failures: timed out after 0\\.3s$`,
      ),
    );
    await logged(d, /slow is unhealthy: 2 failures: timed out after 0\.3s/);
    const checkSleeps = () => jobProcesses("sleep\x00977", true);
    // Never more than the one check in flight, and every earlier check's shell and sleep are gone.
    for (let i = 0; i < 5; i++) {
      ok(checkSleeps().length <= 1, `at most one hung check alive: ${checkSleeps()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const shells = await waitFor(() => {
      const p = lines(`${d.dir}/check-pids`).map(Number);
      return p.length >= 3 ? p : null;
    }, "three checks");
    await waitFor(() => shells.slice(0, 2).every((p) => !pidAlive(p)), "earlier checks gone", 2000);
    ok(pidAlive(pid), "the job itself is left alone");

    equal((await d.initctl("stop", "slow")).code, 0);
    await waitFor(() => checkSleeps().length === 0, "no check left after stop", 2000);
    for (const p of lines(`${d.dir}/check-pids`).map(Number)) ok(!pidAlive(p), `check ${p} gone`);
  },
);

const GROWER = `
import os, sys, time
if os.path.exists(sys.argv[1]):
    os.remove(sys.argv[1])
    hog = b"x" * (150 << 20)
    print("holding", len(hog) >> 20, "MiB", flush=True)
time.sleep(1000)
`;

daemonTest(
  "a process that grows past health memory is restarted",
  (dir) => {
    Deno.writeTextFileSync(`${dir}/grow.py`, GROWER);
    Deno.writeTextFileSync(`${dir}/grow`, "");
    return {
      hog: `respawn
health memory 60M
health interval 0.2
health retries 1
exec /usr/bin/python3 ${dir}/grow.py ${dir}/grow
`,
    };
  },
  async (d) => {
    await d.initctl("start", "hog");
    const first = await d.waitRunning("hog");
    const second = await newMainPid(d, "hog", first);
    ok(!exists(`${d.dir}/grow`), "the first run took the marker");
    await logged(d, /hog is unhealthy: 1 failure: memory 1\d\d(\.\d)? MiB > 60 MiB/);
    await logged(d, /hog restarting \(unhealthy\)/);
    await waitFor(() => !pidAlive(first), "the hog is gone");
    match(
      await d.waitStatus("hog", /, healthy$/),
      new RegExp(`^hog start/running, process ${second}, healthy`),
    );
    const json = JSON.parse((await d.initctl("status", "--json", "hog")).stdout);
    match(json[0].health.detail, /^memory [\d.]+ [KM]iB <= 60 MiB$/);
    match(d.readLog("hog.log"), /holding 150 MiB/);
  },
);

/** Seconds between consecutive spawn times recorded (date +%s.%N) in `path`. */
function gaps(path: string): number[] {
  const t = lines(path).map(Number);
  return t.slice(1).map((v, i) => v - t[i]!);
}

function assertGap(actual: number, expected: number, what: string): void {
  ok(
    actual >= expected - 0.03 && actual <= expected + 0.15,
    `${what}: ${actual.toFixed(3)} s, expected about ${expected} s`,
  );
}

daemonTest(
  "respawn delay: delays double between quick crashes up to MAX and reset after a long run",
  (dir) => ({
    crashy: `respawn
respawn limit unlimited
respawn delay 0.2 0.8
script
    date +%s.%N >> ${dir}/spawns
    if [ -e ${dir}/stable ]; then exec sleep 1000; fi
    exit 1
end script
`,
  }),
  async (d) => {
    const spawns = `${d.dir}/spawns`;
    await d.initctl("start", "crashy");
    await waitFor(() => lines(spawns).length >= 5, "five spawns", 10_000);
    Deno.writeTextFileSync(`${d.dir}/stable`, "");
    const g = gaps(spawns).slice(0, 4);
    [0.2, 0.4, 0.8, 0.8].forEach((want, i) => assertGap(g[i]!, want, `gap ${i + 1}`));
    await logged(d, /crashy respawning in 0\.2s \(back-off 1\)/);
    await logged(d, /crashy respawning in 0\.8s \(back-off 4\)/);

    // Let it run longer than MAX, then crash it: the back-off starts again from MIN.
    const pid = await d.waitRunning("crashy");
    const ranFrom = Number(lines(spawns).at(-1));
    await waitFor(() => Date.now() / 1000 - ranFrom > 1.0, "a run longer than MAX", 5000);
    Deno.removeSync(`${d.dir}/stable`);
    const before = lines(spawns).length;
    Deno.kill(pid, "SIGKILL");
    const killedAt = Date.now() / 1000;
    await waitFor(() => lines(spawns).length >= before + 2, "two more spawns", 5000);
    assertGap(Number(lines(spawns)[before]) - killedAt, 0.2, "kill to respawn after the reset");
    const after = gaps(spawns).slice(before - 1, before + 1);
    // The kill itself is not in the file; the gap from the kill to the next spawn is MIN.
    assertGap(after[1]!, 0.4, "second quick crash after the reset");
    await logged(
      d,
      /crashy respawning in 0\.2s \(back-off 1\)[^]*crashy respawning in 0\.2s \(back-off 1\)/,
    );
  },
);

daemonTest(
  "respawn delay: initctl stop during the back-off stops at once",
  (dir) => ({
    patient: `respawn
respawn delay 5 10
script
    date +%s.%N >> ${dir}/spawns
    exit 1
end script
`,
  }),
  async (d) => {
    await d.initctl("start", "patient");
    await waitFor(() => /patient respawning in 5s/.test(d.output), "the back-off");
    await d.waitStatus("patient", /^patient start\/post-stop$/);
    const t0 = performance.now();
    const r = await d.initctl("stop", "patient");
    const took = performance.now() - t0;
    equal(r.code, 0, r.stderr);
    ok(took < 1000, `stop took ${took.toFixed(0)} ms`);
    equal((await d.initctl("status", "patient")).stdout.trim(), "patient stop/waiting");
    equal(lines(`${d.dir}/spawns`).length, 1, "not respawned");
  },
);

daemonTest(
  "respawn retry: a job that hit its limit is started again after AFTER and respawn-failed says why",
  (dir) => ({
    flaky: `respawn
respawn limit 2 10
respawn retry 1
script
    date +%s.%N >> ${dir}/spawns
    if [ -e ${dir}/broken ]; then echo "dependency missing"; exit 3; fi
    echo "up"
    exec sleep 1000
end script
`,
    "flaky-failed": `start on respawn-failed JOB=flaky
task
script
    echo "$JOB|$INSTANCE|\${EXIT_STATUS:-}|\${EXIT_SIGNAL:-}|$LOG" >> ${dir}/gave-up
end script
`,
  }),
  async (d) => {
    Deno.writeTextFileSync(`${d.dir}/broken`, "");
    await d.initctl("start", "flaky");
    const gaveUp = await waitFor(() => someLines(`${d.dir}/gave-up`), "respawn-failed", 10_000);
    deepStrictEqual(gaveUp, [`flaky||3||${d.logs}/flaky.log`]);
    await logged(d, /flaky respawning too fast, stopped/);
    await logged(d, /flaky will be started again in 1s \(respawn retry\)/);
    const givenUpAt = Date.now() / 1000;
    equal(lines(`${d.dir}/spawns`).length, 3);
    equal((await d.initctl("status", "flaky")).stdout.trim(), "flaky stop/waiting");

    Deno.removeSync(`${d.dir}/broken`);
    const pid = await d.waitRunning("flaky");
    const retriedAt = Number(lines(`${d.dir}/spawns`).at(-1));
    ok(
      retriedAt - givenUpAt > 0.7,
      `retried ${(retriedAt - givenUpAt).toFixed(2)} s after giving up`,
    );
    await logged(d, /flaky retrying after respawn limit/);
    match(d.readLog("flaky.log"), /dependency missing\n[^]*up\n/);
    // It stays up: the same process a while later, and no new give-up.
    await waitFor(() => Date.now() / 1000 - retriedAt > 0.5, "half a second", 2000);
    equal(await d.mainPid("flaky"), pid);
    equal(lines(`${d.dir}/gave-up`).length, 1);
  },
);
