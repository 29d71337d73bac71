/**
 * Health checks against real servers and processes: HTTP 200 / 503 / a server that stays alive
 * but never answers, TCP to closed and listening ports, an exec check that hangs (killed at its
 * timeout with nothing left behind), and a process group whose memory crosses the limit. Also the
 * HealthMonitor on real timers turning a hanging server into one unhealthy report.
 */

import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { checkMemory, runCheck } from "../../lib/health/check.ts";
import { GroupRssSampler } from "../../lib/health/memory.ts";
import { HealthMonitor, type HealthReport } from "../../lib/health/monitor.ts";
import type { Health } from "../../lib/job/model.ts";
import { allProcStats } from "../../lib/process/proc.ts";
import { pidAlive, tempDir, waitFor } from "./helpers.ts";

type Mode = "ok" | "fail" | "hang" | "redirect";

/** A Deno.serve on 127.0.0.1 whose answer is switched by `mode`; `close()` releases hung requests. */
function httpServer() {
  const state = { mode: "ok" as Mode, hits: 0 };
  const hung: (() => void)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (_req) => {
    state.hits++;
    switch (state.mode) {
      case "ok":
        return new Response("fine\n");
      case "fail":
        return new Response("down\n", { status: 503 });
      case "redirect":
        return new Response(null, { status: 302, headers: { location: "/elsewhere" } });
      case "hang":
        return new Promise<Response>((resolve) => hung.push(() => resolve(new Response("late"))));
    }
  });
  return {
    state,
    url: `http://127.0.0.1:${server.addr.port}/healthz`,
    async close() {
      for (const release of hung) release();
      await server.shutdown();
    },
  };
}

const TARGET = { pgid: 0, env: {}, cwd: "/" } as const;

/** A port on 127.0.0.1 nobody listens on (bound, then released). */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("http check: 200 and 3xx are healthy, 503 is not", async () => {
  const srv = httpServer();
  try {
    deepStrictEqual(await runCheck({ type: "http", url: srv.url }, TARGET, 2), {
      ok: true,
      detail: "HTTP 200",
    });
    srv.state.mode = "redirect";
    deepStrictEqual(await runCheck({ type: "http", url: srv.url }, TARGET, 2), {
      ok: true,
      detail: "HTTP 302",
    });
    srv.state.mode = "fail";
    deepStrictEqual(await runCheck({ type: "http", url: srv.url }, TARGET, 2), {
      ok: false,
      detail: "HTTP 503",
    });
  } finally {
    await srv.close();
  }
});

Deno.test("http check: a server that stays alive but never answers fails at the timeout", async () => {
  const srv = httpServer();
  try {
    srv.state.mode = "hang";
    const t0 = performance.now();
    const r = await runCheck({ type: "http", url: srv.url }, TARGET, 0.4);
    const took = performance.now() - t0;
    deepStrictEqual(r, { ok: false, detail: "timed out after 0.4s" });
    ok(took >= 390 && took < 1500, `took ${took} ms`);
    equal(srv.state.hits, 1, "the request reached the server");
  } finally {
    await srv.close();
  }
});

Deno.test("http check: a refused connection says so", async () => {
  const port = closedPort();
  const r = await runCheck({ type: "http", url: `http://127.0.0.1:${port}/` }, TARGET, 2);
  deepStrictEqual(r, { ok: false, detail: `connect ECONNREFUSED 127.0.0.1:${port}` });
});

Deno.test("tcp check: a closed port fails with ECONNREFUSED, a listening one passes", async () => {
  const port = closedPort();
  deepStrictEqual(await runCheck({ type: "tcp", host: "127.0.0.1", port }, TARGET, 2), {
    ok: false,
    detail: `connect ECONNREFUSED 127.0.0.1:${port}`,
  });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const open = (listener.addr as Deno.NetAddr).port;
    const accepted = listener.accept();
    deepStrictEqual(await runCheck({ type: "tcp", host: "127.0.0.1", port: open }, TARGET, 2), {
      ok: true,
      detail: `connected to 127.0.0.1:${open}`,
    });
    (await accepted).close();
  } finally {
    listener.close();
  }
});

Deno.test("exec check: exit status, output, environment and directory", async () => {
  const dir = await tempDir();
  try {
    const target = { pgid: 0, env: { GREETING: "hello" }, cwd: dir.path };
    deepStrictEqual(await runCheck({ type: "exec", command: "true" }, target, 5), {
      ok: true,
      detail: "exit 0",
    });
    deepStrictEqual(
      await runCheck(
        { type: "exec", command: 'echo "$GREETING from $(pwd)"; echo oops >&2; exit 3' },
        target,
        5,
      ),
      { ok: false, detail: `exit 3: hello from ${dir.path} oops` },
    );
    const long = await runCheck({ type: "exec", command: "yes x | head -c 100000" }, target, 5);
    equal(long.detail, `exit 0: ${Array(100).fill("x").join(" ")}`, "detail keeps 200 bytes");
    const sig = await runCheck({ type: "exec", command: "kill -TERM $$" }, target, 5);
    deepStrictEqual(sig, { ok: false, detail: "killed by signal TERM" });
    const missing = await runCheck({ type: "exec", command: "true" }, {
      ...target,
      cwd: `${dir.path}/nope`,
    }, 5);
    equal(missing.ok, false);
    match(missing.detail, /^spawn failed: /);
  } finally {
    await dir.cleanup();
  }
});

/** Live members of process group `pgid`, read from /proc. */
function groupMembers(pgid: number): number[] {
  return allProcStats().filter((s) => s.pgrp === pgid && s.state !== "Z").map((s) => s.pid);
}

Deno.test("exec check that hangs is killed at its timeout and leaves no process behind", async () => {
  const dir = await tempDir();
  const pidFile = `${dir.path}/pids`;
  let pids: number[] = [];
  try {
    const t0 = performance.now();
    const r = await runCheck(
      { type: "exec", command: `sleep 1000 & echo $$ $! > ${pidFile}; echo started; sleep 1000` },
      { pgid: 0, env: {}, cwd: dir.path },
      0.5,
    );
    const took = performance.now() - t0;
    deepStrictEqual(r, { ok: false, detail: "timed out after 0.5s: started" });
    ok(took >= 490 && took < 1500, `took ${took} ms`);
    pids = (await Deno.readTextFile(pidFile)).trim().split(" ").map(Number);
    equal(pids.length, 2);
    const [shell] = pids;
    // SIGKILL is delivered at once but dying takes the kernel a moment: bounded wait, then none.
    await waitFor(
      () => pids.every((p) => !pidAlive(p)) && groupMembers(shell!).length === 0,
      "every process of the check's group to be gone",
      3000,
    );
  } finally {
    for (const p of [-(pids[0] ?? 0), ...pids].filter((p) => p !== 0)) {
      try {
        Deno.kill(p, "SIGKILL");
      } catch { /* gone, as it should be */ }
    }
    await dir.cleanup();
  }
});

Deno.test("exec check that passes but leaves a background child does not leak it", async () => {
  const dir = await tempDir();
  const pidFile = `${dir.path}/pid`;
  let pid = 0;
  try {
    const r = await runCheck(
      { type: "exec", command: `sleep 1000 >/dev/null 2>&1 & echo $! > ${pidFile}` },
      { pgid: 0, env: {}, cwd: dir.path },
      5,
    );
    deepStrictEqual(r, { ok: true, detail: "exit 0" });
    pid = Number((await Deno.readTextFile(pidFile)).trim());
    await waitFor(() => !pidAlive(pid), "the background child to be killed", 3000);
  } finally {
    try {
      if (pid) Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
    await dir.cleanup();
  }
});

Deno.test("memory check: a process group that allocates crosses the limit", async () => {
  // The shell and its child share one process group; the child holds ~64 MiB of touched memory.
  const child = new Deno.Command("/bin/sh", {
    args: [
      "-c",
      'python3 -c \'import sys,time; b = b"x" * (64 << 20); print("ready", flush=True); ' +
      "time.sleep(60)'; true",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
    detached: true,
  }).spawn();
  const pgid = child.pid;
  try {
    const reader = child.stdout.getReader();
    const first = await reader.read();
    reader.releaseLock();
    match(new TextDecoder().decode(first.value ?? new Uint8Array()), /ready/);
    const target = { pgid, env: {}, cwd: "/" };
    const over = checkMemory(32 * 1024 * 1024, target);
    equal(over.ok, false, over.detail);
    match(over.detail, /^memory \d+(\.\d)? MiB > 32 MiB$/);
    const sampler = new GroupRssSampler();
    const sampled = checkMemory(32 * 1024 * 1024, target, (g) => sampler.groupRss(g));
    equal(sampled.ok, false, `through the monitor's shared scan: ${sampled.detail}`);
    const under = checkMemory(1024 * 1024 * 1024, target);
    equal(under.ok, true, under.detail);
    match(under.detail, /^memory \d+(\.\d)? MiB <= 1024 MiB$/);
  } finally {
    try {
      Deno.kill(-pgid, "SIGKILL");
    } catch { /* gone */ }
    await child.stdout.cancel().catch(() => {});
    await child.status;
  }
});

Deno.test("monitor on real timers: a server that stops answering is reported unhealthy once", async () => {
  const srv = httpServer();
  const reports: HealthReport[] = [];
  const monitor = new HealthMonitor({ onReport: (r) => reports.push(r) });
  const health: Health = {
    checks: [{ type: "http", url: srv.url }],
    interval: 0.1,
    timeout: 0.2,
    retries: 2,
    grace: 0.05,
    memory: null,
  };
  try {
    monitor.watch("web", health, TARGET);
    await waitFor(() => reports.some((r) => r.ok), "a healthy report", 5000);
    srv.state.mode = "hang";
    await waitFor(() => reports.some((r) => r.unhealthy), "the unhealthy report", 5000);
    const bad = reports.filter((r) => !r.ok);
    deepStrictEqual(
      bad.map((r) => [r.consecutiveFailures, r.unhealthy, r.detail]),
      [[1, false, "timed out after 0.2s"], [2, true, "timed out after 0.2s"]],
    );
    deepStrictEqual(monitor.watching(), []);
  } finally {
    monitor.unwatchAll();
    await srv.close();
  }
});
