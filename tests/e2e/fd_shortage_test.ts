/**
 * End-to-end: a daemon short of descriptors or processes. Under `ulimit -n 64`, 40 `console log`
 * jobs would take every descriptor the daemon has (a log pipe and a log file each): the pipes past
 * 3/8 of the limit free are refused (the jobs write their log files themselves), a flood of dead
 * connections is drained at once, and status and stop answer. A job whose spawn fails for a
 * shortage (its user over `limit nproc`: EAGAIN) is spawned again after a pause until it runs.
 * (The control sockets with no descriptor free at all: tests/unit/control/fd_reserve_test.ts.)
 */

import { match as assertMatch, ok as assert } from "node:assert/strict";
import { daemonTest, logged } from "./daemon_helpers.ts";
import { deadConnections, waitFor } from "./helpers.ts";

const LIMIT_64 = ["/bin/sh", "-c", 'ulimit -n 64 && exec "$@"', "sh"];
const JOBS = 40;

function logJobs(): Record<string, string> {
  const jobs: Record<string, string> = {};
  for (let i = 1; i <= JOBS; i++) {
    jobs[`j${i}`] = "start on startup\nconsole log\nrespawn\nexec sleep 1000\n";
  }
  return jobs;
}

daemonTest(
  "few fds free: log pipes are refused before the sockets suffer; a flood is drained at once",
  logJobs(),
  async (d) => {
    await logged(
      d,
      /j\d+\.log: cannot open the log pipe: Too many open files \(\d+ of 64 in use; upkeep keeps 24 free for itself\): the job writes its log file itself/,
    );
    // Every job runs, those without a pipe writing their log files themselves.
    await waitFor(async () => {
      const list = (await d.initctl("list")).stdout.trim().split("\n");
      return list.filter((l) => /^j\d+ start\/running/.test(l)).length === JOBS;
    }, `${JOBS} jobs running`);
    const owner = await deadConnections(d.socket, 1000);
    const ro = await deadConnections(`${d.socket}.ro`, 1000);
    assert(owner >= 200 && ro >= 200, `only ${owner} and ${ro} connections queued`);
    // Behind the dead connections (one accept per 100 ms before: 20 s and more).
    const status = await d.initctl("status", "j1");
    assertMatch(status.stdout, /^j1 start\/running, process \d+/, status.stderr);
    const stop = await d.initctl("stop", "j1");
    assertMatch(stop.stdout, /^j1 stop\/waiting/);
  },
  { launcher: LIMIT_64 },
);

/** The system's python (readable by any user, unlike a pyenv shim under /root). */
const PYTHON = "/usr/bin/python3";

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** A uid no one else uses: its processes are the test's. */
const UID = 47213;
/** The job's `limit nproc` (threads count: its set-up helper has a dozen or so). */
const NPROC = 256;
/** A process of the job's user with more threads than that. */
const BLOCKER = "import threading, time\n" +
  `for _ in range(${NPROC + 20}):\n` +
  "    threading.Thread(target=time.sleep, args=(1000,), daemon=True).start()\n" +
  "print('ready', flush=True)\ntime.sleep(1000)\n";

daemonTest(
  "a job whose spawn fails for a shortage (EAGAIN: nproc) is spawned again until it runs",
  {
    capped:
      `setuid ${UID}\nsetgid ${UID}\nlimit nproc ${NPROC} ${NPROC}\nrespawn\nexec sleep 1000\n`,
  },
  async (d) => {
    // The job's user is over its process limit: the job's exec fails with EAGAIN.
    const blocker = new Deno.Command(PYTHON, {
      args: ["-c", BLOCKER],
      uid: UID,
      gid: UID,
      stdout: "piped",
    }).spawn();
    const ready = await blocker.stdout.pipeThrough(new TextDecoderStream()).getReader().read();
    assertMatch(ready.value ?? "", /ready/);
    try {
      assertMatch((await d.initctl("start", "-n", "capped")).stdout, /capped start\//);
      await waitFor(
        () =>
          /capped respawning in 1s \(back-off 1\): the system is short of resources/.test(d.output),
        "a respawn after a pause",
      );
      assertMatch(d.output, /capped main process: cannot \S+ .*Resource temporarily unavailable/);
      assertMatch((await d.initctl("status", "capped")).stdout, /next try in \d+s: /);
    } finally {
      blocker.kill("SIGKILL");
      await blocker.status;
    }
    // The user's process is gone: the next try runs the job (`sleep`, as the user).
    await waitFor(
      async () => {
        const pid = await d.mainPid("capped");
        if (pid === null) return false;
        try {
          return Deno.readTextFileSync(`/proc/${pid}/comm`).trim() === "sleep";
        } catch {
          return false;
        }
      },
      "capped running sleep",
      40_000,
    );
  },
  { ignore: Deno.uid() !== 0 || !exists(PYTHON) },
);
