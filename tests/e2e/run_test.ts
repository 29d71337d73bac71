/**
 * End-to-end tests of `upkeep run` (cron mode), driving the real CLI as a subprocess: exit status
 * propagation, timeouts that leave no process behind, overlap locks (also after SIGKILL of the
 * holder), retries, time-stamped complete logs, --quiet-success, --json, job files, signals.
 */

import assert from "node:assert/strict";
import { pidAlive, runUpkeep, tempDir, upkeepArgv, waitFor } from "./helpers.ts";

function spawnUpkeep(args: string[]): Deno.ChildProcess {
  const [cmd, ...pre] = upkeepArgv();
  return new Deno.Command(cmd!, {
    args: [...pre, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

function killGroupOf(pidFile: string): void {
  try {
    for (const pid of Deno.readTextFileSync(pidFile).split(/\s+/).filter(Boolean)) {
      try {
        Deno.kill(-Number(pid), "SIGKILL");
      } catch { /* gone */ }
    }
  } catch { /* no pid file */ }
}

const exists = (p: string) => {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
};

Deno.test("upkeep run exits with the command's status: 0, 3, and 128+N for a signal", async () => {
  assert.equal((await runUpkeep(["run", "--no-log", "--", "sh", "-c", "exit 0"])).code, 0);
  const three = await runUpkeep(["run", "--no-log", "--", "sh", "-c", "exit 3"]);
  assert.equal(three.code, 3);
  assert.match(three.stderr, /^sh: failed after 1 try, exit 3, \d+\.\d s\n$/);
  const sig = await runUpkeep(["run", "--no-log", "--", "sh", "-c", "kill -TERM $$"]);
  assert.equal(sig.code, 143);
  assert.match(sig.stderr, /exit 143 \(signal TERM\)/);
});

Deno.test("upkeep run --timeout kills a forking job's whole group, exit 124, none left", async () => {
  const dir = await tempDir();
  const pids = `${dir.path}/pids`;
  try {
    const script = `sleep 300 & echo $! >> ${pids}; sh -c 'sleep 301 & echo $! >> ${pids}; wait' &
      echo $! >> ${pids}; echo $$ >> ${pids}; wait`;
    const t0 = performance.now();
    const r = await runUpkeep(["run", "--no-log", "--timeout", "0.5s", "--", "sh", "-c", script]);
    assert.equal(r.code, 124);
    assert.match(r.stderr, /^sh: timed out after 1 try, exit 124/);
    assert.ok(performance.now() - t0 < 5000);
    const all = Deno.readTextFileSync(pids).split(/\s+/).filter(Boolean).map(Number);
    assert.equal(all.length, 4);
    await waitFor(
      () => all.every((p) => !pidAlive(p)),
      "every process of the job to be gone",
      3000,
    );
  } finally {
    killGroupOf(pids);
    await dir.cleanup();
  }
});

Deno.test("upkeep run --timeout SIGKILLs a group that ignores the kill signal after kill timeout", async () => {
  const dir = await tempDir();
  const pids = `${dir.path}/pids`;
  try {
    const script = `trap '' TERM; sleep 300 & echo $! >> ${pids}; echo $$ >> ${pids}; wait`;
    const r = await runUpkeep([
      "run",
      "--no-log",
      "--timeout",
      "300ms",
      "--kill-timeout",
      "300ms",
      "--",
      "sh",
      "-c",
      script,
    ]);
    assert.equal(r.code, 124);
    const all = Deno.readTextFileSync(pids).split(/\s+/).filter(Boolean).map(Number);
    await waitFor(() => all.every((p) => !pidAlive(p)), "the TERM-ignoring processes to die", 3000);
  } finally {
    killGroupOf(pids);
    await dir.cleanup();
  }
});

/** True when /proc/locks shows a process blocked waiting for this file's lock (a `->` line). */
function someoneWaitsForLock(path: string): boolean {
  const ino = Deno.statSync(path).ino;
  return Deno.readTextFileSync("/proc/locks").split("\n")
    .some((l) => /->\s*FLOCK/.test(l) && l.includes(`:${ino} `));
}

Deno.test("upkeep run --lock: a second run exits 75 at once; with --wait-lock it waits", async () => {
  const dir = await tempDir();
  const lock = `${dir.path}/job.lock`;
  const started = `${dir.path}/started`,
    release = `${dir.path}/release`,
    bRan = `${dir.path}/b-ran`;
  const holder = spawnUpkeep([
    "run",
    "--no-log",
    "--lock",
    lock,
    "--",
    "sh",
    "-c",
    `touch ${started}; while [ ! -e ${release} ]; do sleep 0.02; done`,
  ]);
  let waiter: Deno.ChildProcess | null = null;
  try {
    await waitFor(() => exists(started), "the first run to start");
    const second = await runUpkeep(["run", "--no-log", "--lock", lock, "--", "true"]);
    assert.equal(second.code, 75);
    assert.equal(second.stderr.trim().split("\n").length, 1);
    assert.match(second.stderr, /^true: skipped, a previous run still holds .*job\.lock\n$/);

    waiter = spawnUpkeep(["run", "--no-log", "--lock", lock, "--wait-lock", "--", "touch", bRan]);
    await waitFor(() => someoneWaitsForLock(lock), "the third run to block on the lock");
    assert.equal(exists(bRan), false);
    Deno.writeTextFileSync(release, "");
    assert.equal((await holder.output()).code, 0);
    assert.equal((await waiter.output()).code, 0);
    assert.equal(exists(bRan), true);
  } finally {
    Deno.writeTextFileSync(release, "");
    for (const c of [holder, waiter]) {
      try {
        c?.kill("SIGKILL");
      } catch { /* exited */ }
      await c?.output().catch(() => {});
    }
    await dir.cleanup();
  }
});

/** As root the lock is /run/upkeep/locks/NAME: a name of this test process's own. */
const nightly = `nightly-${Deno.pid}`;

Deno.test("upkeep run --no-overlap lock is released when the holder is SIGKILLed", async () => {
  const dir = await tempDir();
  const pids = `${dir.path}/pids`;
  const env = { XDG_RUNTIME_DIR: dir.path };
  const [cmd, ...pre] = upkeepArgv();
  const holder = new Deno.Command(cmd!, {
    args: [
      ...pre,
      "run",
      "--no-log",
      "--no-overlap",
      "--name",
      nightly,
      "--",
      "sh",
      "-c",
      `echo $$ > ${pids}; exec sleep 300`,
    ],
    env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitFor(() => exists(pids), "the holder's job to start");
    const busy = await runUpkeep([
      "run",
      "--no-log",
      "--no-overlap",
      "--name",
      nightly,
      "--",
      "true",
    ], { env });
    assert.equal(busy.code, 75);
    holder.kill("SIGKILL");
    await holder.status;
    const after = await runUpkeep([
      "run",
      "--no-log",
      "--no-overlap",
      "--name",
      nightly,
      "--",
      "true",
    ], {
      env,
    });
    assert.equal(after.code, 0, after.stderr);
  } finally {
    killGroupOf(pids);
    try {
      holder.kill("SIGKILL");
    } catch { /* gone */ }
    await holder.status;
    await dir.cleanup();
  }
});

Deno.test("upkeep run --retries runs again on failure, the right number of times", async () => {
  const dir = await tempDir();
  const count = `${dir.path}/count`;
  try {
    const r = await runUpkeep([
      "run",
      "--no-log",
      "--retries",
      "2",
      "--retry-delay",
      "10ms",
      "--",
      "sh",
      "-c",
      `echo x >> ${count}; exit 1`,
    ]);
    assert.equal(r.code, 1);
    assert.equal(Deno.readTextFileSync(count), "x\nx\nx\n");
    assert.match(r.stderr, /^sh: failed after 3 tries, exit 1,/);

    const ok = await runUpkeep([
      "run",
      "--no-log",
      "--retries",
      "5",
      "--retry-delay",
      "10ms",
      "--",
      "sh",
      "-c",
      '[ "$UPKEEP_RUN_TRY" = 2 ]',
    ]);
    assert.equal(ok.code, 0);
    assert.match(ok.stderr, /^sh: ok, 2 tries, \d+\.\d s\n$/);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("upkeep run --log: every one of 10,000 lines of both streams, time-stamped, in order", async () => {
  const dir = await tempDir();
  const log = `${dir.path}/out.log`;
  try {
    const script = `i=0; while [ $i -lt 10000 ]; do echo "line $i"; i=$((i+1)); done
      echo to-stderr >&2; printf 'no newline at end'`;
    const r = await runUpkeep(["run", "--log", log, "--", "sh", "-c", script]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, new RegExp(`^sh: ok, 1 try, \\d+\\.\\d s, log: ${log}\\n$`));
    const lines = Deno.readTextFileSync(log).split("\n");
    assert.equal(lines.pop(), "");
    const stamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;
    assert.ok(lines.every((l) => stamp.test(l)));
    const job = lines.filter((l) => !l.includes(" [upkeep] ")).map((l) => l.replace(stamp, ""));
    assert.equal(job.length, 10002);
    for (let i = 0; i < 10000; i++) assert.equal(job[i], `line ${i}`);
    assert.deepEqual(job.slice(10000), ["to-stderr", "no newline at end"]);
    assert.match(lines.at(-1)!, /\[upkeep\] sh: ok, 1 try/);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("upkeep run --quiet-success is silent on success and loud on failure", async () => {
  const dir = await tempDir();
  try {
    const ok = await runUpkeep([
      "run",
      "--quiet-success",
      "--log-dir",
      dir.path,
      "--",
      "sh",
      "-c",
      "echo fine",
    ]);
    assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, "", ""]);
    assert.match(Deno.readTextFileSync(`${dir.path}/sh.log`), /Z fine\n/);
    const bad = await runUpkeep([
      "run",
      "--quiet-success",
      "--log-dir",
      dir.path,
      "--name",
      "report",
      "--",
      "sh",
      "-c",
      "echo broken; exit 5",
    ]);
    assert.equal(bad.code, 5);
    assert.equal(bad.stdout, "broken\n");
    assert.match(
      bad.stderr,
      new RegExp(`^report: failed after 1 try, exit 5, .* log: ${dir.path}/report\\.log\\n$`),
    );
  } finally {
    await dir.cleanup();
  }
});

Deno.test("upkeep run --json prints the summary as one JSON object", async () => {
  const r = await runUpkeep([
    "run",
    "--json",
    "--no-log",
    "--name",
    "backup",
    "--",
    "sh",
    "-c",
    "exit 3",
  ]);
  assert.equal(r.code, 3);
  const s = JSON.parse(r.stderr);
  assert.deepEqual({ ...s, seconds: 0 }, {
    job: "backup",
    result: "failed",
    exit: 3,
    signal: null,
    tries: 1,
    seconds: 0,
    log: null,
  });
});

Deno.test("upkeep run JOB.conf runs pre-start, main, post-stop with env and chdir, logs by default", async () => {
  const dir = await tempDir();
  try {
    const conf = `${dir.path}/backup.conf`;
    Deno.writeTextFileSync(
      conf,
      `env GREETING="hello there"
chdir ${dir.path}
task
pre-start exec echo pre
script
  echo "main $GREETING in $(pwd) as $UPSTART_JOB"
  exit 3
end script
post-stop script
  echo post
end script
`,
    );
    const r = await runUpkeep(["run", "--log-dir", `${dir.path}/logs`, conf]);
    assert.equal(r.code, 3, r.stderr);
    const text = Deno.readTextFileSync(`${dir.path}/logs/backup.log`);
    const job = text.split("\n").filter((l) => l && !l.includes("[upkeep]")).map((l) =>
      l.slice(25)
    );
    assert.deepEqual(job, ["pre", `main hello there in ${dir.path} as backup`, "post"]);
    assert.match(r.stderr, /^backup: failed after 1 try, exit 3, .*log: .*backup\.log\n$/);
  } finally {
    await dir.cleanup();
  }
});

Deno.test({
  name: "upkeep run JOB.conf with setuid: the job gets its env through the helper, stdin /dev/null",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const dir = await tempDir();
    try {
      const conf = `${dir.path}/as-nobody.conf`;
      Deno.writeTextFileSync(
        conf,
        `env SECRET="s3 cret"
setuid nobody
task
script
  echo "$(id -un) [$SECRET] $(readlink /proc/$$/fd/0)"
end script
`,
      );
      const r = await runUpkeep(["run", "--log-dir", `${dir.path}/logs`, conf]);
      assert.equal(r.code, 0, r.stderr);
      const text = Deno.readTextFileSync(`${dir.path}/logs/as-nobody.log`);
      const job = text.split("\n").filter((l) => l && !l.includes("[upkeep]")).map((l) =>
        l.slice(25)
      );
      assert.deepEqual(job, ["nobody [s3 cret] /dev/null"]);
    } finally {
      await dir.cleanup();
    }
  },
});

Deno.test("upkeep run JOB.conf with a failing pre-start skips main and reports its status", async () => {
  const dir = await tempDir();
  try {
    const conf = `${dir.path}/j.conf`;
    Deno.writeTextFileSync(
      conf,
      `console output\npre-start exec false\nexec echo main-ran\npost-stop exec echo post-ran\n`,
    );
    const r = await runUpkeep(["run", conf]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "post-ran\n");
  } finally {
    await dir.cleanup();
  }
});

Deno.test("SIGTERM to upkeep run is forwarded to the job's group: exit 143, no orphans", async () => {
  const dir = await tempDir();
  const pids = `${dir.path}/pids`;
  const child = spawnUpkeep([
    "run",
    "--no-log",
    "--",
    "sh",
    "-c",
    `sleep 300 & echo $! >> ${pids}; echo $$ >> ${pids}; wait`,
  ]);
  try {
    await waitFor(
      () => exists(pids) && Deno.readTextFileSync(pids).trim().split("\n").length === 2,
      "job",
    );
    child.kill("SIGTERM");
    const out = await child.output();
    assert.equal(out.code, 143);
    assert.match(
      new TextDecoder().decode(out.stderr),
      /^sh: interrupted by TERM after 1 try, exit 143/,
    );
    const all = Deno.readTextFileSync(pids).split(/\s+/).filter(Boolean).map(Number);
    await waitFor(() => all.every((p) => !pidAlive(p)), "the job's processes to be gone", 3000);
  } finally {
    killGroupOf(pids);
    await dir.cleanup();
  }
});

Deno.test("upkeep run rejects bad flags with a one-line usage error and exit 2", async () => {
  for (const args of [["--bogus", "x.conf"], ["--timeout", "soon", "--", "true"], []]) {
    const r = await runUpkeep(["run", ...args]);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.match(r.stderr, /^upkeep run: /);
  }
});
