/**
 * End-to-end tests of the process layer on real processes, spawned as the daemon spawns them
 * (posix_spawn, with upkeep's set-up helper when a stanza needs it): every stanza planProcess
 * handles is checked through /proc (env, cwd, umask, nice, limits, oom score, ids, chroot), console
 * log, process-group kill, subreaping a double-forked orphan, and spawn errors.
 */

import assert from "node:assert/strict";
import { defaultJob, type JobClass } from "../../lib/job/model.ts";
import {
  descendantsOf,
  type ExitStatus,
  killProcessGroup,
  loadUserDb,
  type PlanInput,
  planProcess,
  processGroupMembers,
  type ProcessPlan,
  readEnviron,
  readProcStat,
  setChildSubreaper,
  waitpidNoHang,
} from "../../lib/process/mod.ts";
import { SetupPipes, spawnProcess } from "../../lib/process/fast_spawn.ts";
import { pidAlive, tempDir, testHelperCommand, waitFor } from "./helpers.ts";

interface Running {
  readonly pid: number;
  readonly exited: Promise<ExitStatus>;
  /** The set-up helper's failure line, once exited. */
  setupError: string | null;
}

/** Spawn as the daemon does; `exited` reaps the pid (waitpidNoHang) and reads the error pipe. */
function spawnPlan(plan: ProcessPlan): Running {
  const { pid, errorFd } = spawnProcess(plan);
  const pipes = new SetupPipes();
  if (errorFd !== null) pipes.add(pid, errorFd);
  const r: Running = {
    pid,
    setupError: null,
    exited: waitFor(() => waitpidNoHang(pid), `exit of ${pid}`, 30_000, 5).then((s) => {
      r.setupError = pipes.take(pid);
      return s;
    }),
  };
  return r;
}

const users = loadUserDb();
const PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
const isRoot = Deno.uid() === 0;

function planFor(over: Partial<JobClass>, extra: Partial<PlanInput> = {}): ProcessPlan {
  const r = planProcess({
    job: { ...defaultJob("t", ""), console: "none", ...over },
    kind: "main",
    env: { PATH, UPSTART_JOB: "t" },
    logFile: null,
    users,
    daemonUmask: 0o022,
    helper: testHelperCommand(),
    ...extra,
  });
  if ("error" in r) throw new Error(r.error);
  return r.plan;
}

/**
 * Spawn, wait until the target program runs, run `check`, always kill the group. The name (comm)
 * changes early in execve, before the new program's environment is in place (/proc/PID/environ
 * then reads empty: seen once under load), so wait until the program sleeps as well.
 */
async function withProcess(
  plan: ProcessPlan,
  comm: string,
  check: (p: Running) => void | Promise<void>,
): Promise<void> {
  const p = spawnPlan(plan);
  try {
    await waitFor(() => {
      const st = readProcStat(p.pid);
      return st?.comm === comm && st.state === "S";
    }, `${comm} to exec and sleep`);
    await check(p);
  } finally {
    killProcessGroup(p.pid, "KILL");
    await p.exited;
  }
}

function statusField(pid: number, field: string): string {
  const m = new RegExp(`^${field}:[ \\t]*(.*)$`, "m").exec(
    Deno.readTextFileSync(`/proc/${pid}/status`),
  );
  return m?.[1]?.trim() ?? "";
}

Deno.test("spawned process gets exactly the planned env, chdir as cwd, and its own session", async () => {
  await withProcess(planFor({ main: { exec: "sleep 30" }, chdir: "/tmp" }), "sleep", (p) => {
    assert.deepEqual(readEnviron(p.pid), { PATH, UPSTART_JOB: "t" });
    assert.equal(Deno.readLinkSync(`/proc/${p.pid}/cwd`), "/tmp");
    const st = readProcStat(p.pid)!;
    assert.deepEqual([st.pgrp, st.session], [p.pid, p.pid]);
  });
});

Deno.test("a job process ignores and blocks no signal, glibc's internal 32 and 33 included", async () => {
  const plan = planFor({ main: { exec: "sleep 30" } });
  assert.equal(plan.helper, false); // posix_spawn straight from the daemon
  await withProcess(plan, "sleep", (p) => {
    assert.equal(statusField(p.pid, "SigIgn"), "0000000000000000");
    assert.equal(statusField(p.pid, "SigBlk"), "0000000000000000");
  });
});

Deno.test("umask, nice and oom score (a raise) take effect in the job's process", async () => {
  const plan = planFor({ main: { exec: "sleep 30" }, umask: 0o027, nice: 7, oomScore: 321 });
  await withProcess(plan, "sleep", (p) => {
    assert.equal(statusField(p.pid, "Umask"), "0027");
    const stat = Deno.readTextFileSync(`/proc/${p.pid}/stat`);
    assert.equal(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16], "7"); // field 19: nice
    assert.equal(Deno.readTextFileSync(`/proc/${p.pid}/oom_score_adj`).trim(), "321");
  });
});

Deno.test("every limit resource takes effect (read back from /proc/PID/limits)", async () => {
  const limits: JobClass["limits"] = {
    as: { soft: 4294967296, hard: "unlimited" },
    core: { soft: 0, hard: 0 },
    cpu: { soft: 1000, hard: 2000 },
    data: { soft: 2147483648, hard: 4294967296 },
    fsize: { soft: 1000000000, hard: 2000000000 },
    memlock: { soft: 65536, hard: 65536 },
    msgqueue: { soft: 8192, hard: 16384 },
    nice: { soft: 0, hard: 0 },
    nofile: { soft: 64, hard: 128 },
    nproc: { soft: 500, hard: 1000 },
    rss: { soft: 1000000000, hard: 1000000000 },
    rtprio: { soft: 0, hard: 0 },
    sigpending: { soft: 100, hard: 200 },
    stack: { soft: 4194304, hard: 8388608 },
  };
  const names: Record<string, string> = {
    as: "Max address space",
    core: "Max core file size",
    cpu: "Max cpu time",
    data: "Max data size",
    fsize: "Max file size",
    memlock: "Max locked memory",
    msgqueue: "Max msgqueue size",
    nice: "Max nice priority",
    nofile: "Max open files",
    nproc: "Max processes",
    rss: "Max resident set",
    rtprio: "Max realtime priority",
    sigpending: "Max pending signals",
    stack: "Max stack size",
  };
  await withProcess(planFor({ main: { exec: "sleep 30" }, limits }), "sleep", (p) => {
    const text = Deno.readTextFileSync(`/proc/${p.pid}/limits`);
    for (const [res, lim] of Object.entries(limits)) {
      const line = text.split("\n").find((l) => l.startsWith(names[res]!));
      assert.ok(line, res);
      const [soft, hard] = line.slice(26).trim().split(/\s+/);
      assert.deepEqual([soft, hard], [String(lim!.soft), String(lim!.hard)], res);
    }
  });
});

Deno.test({
  name: "setuid/setgid nobody runs the process as nobody with initgroups' groups",
  ignore: !isRoot,
  fn: async () => {
    const dir = await tempDir();
    try {
      const direct = planFor({ main: { exec: "sleep 30" }, setuid: "nobody", setgid: "nogroup" }, {
        env: { PATH, UPSTART_JOB: "t", DB_PASSWORD: "hunter2" },
      });
      assert.equal(direct.helper, true);
      // The environment reaches the job through the helper's stdin, never its command line.
      assert.ok(!direct.argv.some((a) => a.includes("hunter2")), direct.argv.join(" "));
      await withProcess(direct, "sleep", (p) => {
        assert.deepEqual(readEnviron(p.pid), { PATH, UPSTART_JOB: "t", DB_PASSWORD: "hunter2" });
        assert.equal(Deno.readLinkSync(`/proc/${p.pid}/fd/0`), "/dev/null");
        assert.match(statusField(p.pid, "Uid"), /^65534\s+65534\s+65534\s+65534$/);
        assert.match(statusField(p.pid, "Gid"), /^65534\s+65534\s+65534\s+65534$/);
        assert.equal(statusField(p.pid, "Groups"), "65534");
        assert.equal(statusField(p.pid, "CapEff"), "0000000000000000");
        assert.equal(statusField(p.pid, "SigIgn"), "0000000000000000");
        assert.equal(statusField(p.pid, "SigBlk"), "0000000000000000");
      });
      const log = `${dir.path}/job.log`;
      const logged = planFor({ main: { exec: "sleep 30" }, setuid: "nobody", console: "log" }, {
        logFile: log,
      });
      await withProcess(logged, "sleep", (p) => {
        assert.match(statusField(p.pid, "Uid"), /^65534\s/);
        assert.equal(Deno.statSync(log).uid, 0);
        assert.equal(Deno.statSync(log).mode! & 0o777, 0o640);
      });
    } finally {
      await dir.cleanup();
    }
  },
});

Deno.test({
  name: "a set-up step that fails ends the process with one line naming the step",
  ignore: !isRoot,
  fn: async () => {
    const p = spawnPlan(planFor({ main: { exec: "true" }, chroot: "/no/such/root" }));
    assert.deepEqual(await p.exited, { code: 126, signal: null });
    assert.equal(
      p.setupError,
      "upkeep: t main process: cannot chroot to /no/such/root: No such file or directory",
    );
    const missing = spawnPlan(planFor({ main: { exec: "no-such-program-xyz" }, nice: 1 }));
    assert.deepEqual(await missing.exited, { code: 127, signal: null });
    assert.match(missing.setupError!, /cannot run no-such-program-xyz: No such file or directory$/);
    const fine = spawnPlan(planFor({ main: { exec: "true" }, nice: 1 }));
    assert.deepEqual(await fine.exited, { code: 0, signal: null });
    assert.equal(fine.setupError, null);
  },
});

Deno.test({
  name: "chroot runs the process inside the new root, as the setuid user, in chdir",
  ignore: !isRoot,
  fn: async () => {
    const dir = await tempDir();
    try {
      const root = dir.path;
      Deno.chmodSync(root, 0o755); // nobody must be able to read the new root
      for (const f of ["/bin/sh", "/usr/bin/sleep"]) {
        const real = Deno.realPathSync(f);
        const deps = new Deno.Command("ldd", { args: [real], stdout: "piped" }).outputSync();
        const libs = [...new TextDecoder().decode(deps.stdout).matchAll(/(\/\S+\.so[.\d]*)/g)]
          .map((m) => m[1]!);
        for (const src of [real, ...libs]) {
          const to = `${root}${src}`;
          Deno.mkdirSync(to.slice(0, to.lastIndexOf("/")), { recursive: true });
          Deno.copyFileSync(src, to);
        }
        const to = `${root}${f}`;
        Deno.mkdirSync(to.slice(0, to.lastIndexOf("/")), { recursive: true });
        if (real !== f) Deno.copyFileSync(real, to);
      }
      Deno.mkdirSync(`${root}/data`);
      const plan = planFor({
        main: { exec: "sleep 30" },
        chroot: root,
        chdir: "/data",
        setuid: "nobody",
      });
      await withProcess(plan, "sleep", (p) => {
        assert.equal(Deno.readLinkSync(`/proc/${p.pid}/root`), root);
        assert.equal(Deno.readLinkSync(`/proc/${p.pid}/cwd`), `${root}/data`);
        assert.match(statusField(p.pid, "Uid"), /^65534\s/);
      });
    } finally {
      await dir.cleanup();
    }
  },
});

Deno.test("console log appends stdout and stderr of the process to the log file", async () => {
  const dir = await tempDir();
  try {
    const log = `${dir.path}/t.log`;
    Deno.writeTextFileSync(log, "old\n");
    const plan = planFor({ console: "log", main: { script: "echo to-out\necho to-err >&2\n" } }, {
      logFile: log,
    });
    const p = spawnPlan(plan);
    assert.deepEqual(await p.exited, { code: 0, signal: null });
    assert.equal(Deno.readTextFileSync(log), "old\nto-out\nto-err\n");
  } finally {
    await dir.cleanup();
  }
});

Deno.test("killing the process group leaves no grandchild behind", async () => {
  const p = spawnPlan(
    planFor({ main: { script: "sleep 300 &\nsh -c 'sleep 301 & wait' &\nwait\n" } }),
  );
  try {
    const kids = await waitFor(() => {
      const d = descendantsOf(p.pid);
      return d.length >= 3 ? d : null;
    }, "grandchildren");
    assert.equal(killProcessGroup(p.pid, "TERM"), true);
    assert.deepEqual(await p.exited, { code: null, signal: "TERM" });
    await waitFor(() => kids.every((k) => !pidAlive(k)), "grandchildren to die");
    assert.deepEqual(processGroupMembers(p.pid), []);
  } finally {
    killProcessGroup(p.pid, "KILL");
  }
});

Deno.test("a subreaper adopts a double-forked orphan and waitpidNoHang reaps it", async () => {
  const dir = await tempDir();
  try {
    assert.equal(setChildSubreaper(), true);
    const pidFile = `${dir.path}/pid`;
    const p = spawnPlan(planFor({
      main: { script: `(sleep 0.3; exit 7) &\necho $! > ${pidFile}\n` },
    }));
    assert.deepEqual(await p.exited, { code: 0, signal: null });
    const orphan = Number(Deno.readTextFileSync(pidFile));
    assert.equal(readProcStat(orphan)?.ppid, Deno.pid);
    const status = await waitFor(() => waitpidNoHang(orphan), "orphan to exit");
    assert.deepEqual(status, { code: 7, signal: null });
    assert.equal(readProcStat(orphan), null);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("spawnProcess() throws for a missing program and a missing cwd", () => {
  assert.throws(
    () => spawnPlan(planFor({ main: { exec: "no-such-program-xyz" } })),
    /No such file or directory/,
  );
  assert.throws(
    () => spawnPlan(planFor({ main: { exec: "true" }, chdir: "/no/such/dir" })),
    /cannot change directory to '\/no\/such\/dir'/,
  );
});

Deno.test("spawnProcess() knows the start time /proc/PID/stat gives, without reading it", async () => {
  const spawned = [];
  // A spawn that straddles a clock tick (10 ms) says null: a few in 100 know it, even when the
  // machine is busy.
  for (let i = 0; i < 100 && spawned.filter((s) => s.start !== null).length < 3; i++) {
    const { pid, start, errorFd } = spawnProcess(planFor({ main: { exec: "sleep 30" } }));
    assert.equal(errorFd, null);
    spawned.push({ pid, start, stat: readProcStat(pid)?.startTime ?? null });
  }
  try {
    const known = spawned.filter((s) => s.start !== null);
    assert.ok(known.length > 0, "no spawn knew its start time");
    for (const s of known) assert.equal(s.start, s.stat, `start time of ${s.pid}`);
  } finally {
    for (const s of spawned) killProcessGroup(s.pid, "SIGKILL");
    for (const s of spawned) await waitFor(() => waitpidNoHang(s.pid), `exit of ${s.pid}`);
  }
});
