/**
 * End-to-end: SIGUSR1 and SIGALRM do nothing to the daemon (lib/process/quiet_signals.ts).
 * Without it, under `deno run` SIGUSR1 opens a V8 inspector on 127.0.0.1:9229 (any local user
 * could then run code in the daemon), and in a compiled upkeep it ends the daemon; SIGALRM ends it.
 */

import { ok as assert } from "node:assert/strict";
import { daemonTest } from "./daemon_helpers.ts";
import { pidAlive, upkeepArgv, waitFor } from "./helpers.ts";

const USR1_BIT = 1n << 9n; // signal 10
const ALRM_BIT = 1n << 13n; // signal 14

function sigMask(pid: number, field: "SigIgn" | "SigCgt"): bigint {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const hex = new RegExp(`^${field}:\\s*([0-9a-f]+)`, "m").exec(status)?.[1];
  assert(hex !== undefined, `${field} missing from /proc/${pid}/status`);
  return BigInt(`0x${hex}`);
}

/** Sockets on TCP port 9229 that `pid` listens on (inodes of /proc/net/tcp rows it holds). */
function inspectorSockets(pid: number): string[] {
  const own = new Set<string>();
  for (const fd of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`));
      if (m) own.add(m[1]!);
    } catch { /* closed meanwhile */ }
  }
  const rows = Deno.readTextFileSync("/proc/net/tcp").split("\n").slice(1);
  return rows.map((r) => r.trim().split(/\s+/))
    .filter((f) => f[1]?.endsWith(":240D") && f[3] === "0A" && own.has(f[9] ?? ""))
    .map((f) => f[9]!);
}

/**
 * Send SIGUSR1 to `pid` once Deno's own listener has started (500 ms after the event loop first
 * waits; nothing shows when it has), then watch a second for what it would do: within
 * milliseconds, the process would end or listen on port 9229.
 */
async function usr1LeavesAlone(pid: number, output: () => string): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000));
  Deno.kill(pid, "SIGUSR1");
  const until = performance.now() + 1000;
  while (performance.now() < until) {
    assert(pidAlive(pid), "the process ended on SIGUSR1");
    assert(!/Debugger listening/.test(output()), `an inspector was opened:\n${output()}`);
    assert(inspectorSockets(pid).length === 0, "the process listens on port 9229");
    await new Promise((r) => setTimeout(r, 50));
  }
}

daemonTest("SIGUSR1 and SIGALRM: the daemon lives on and opens no inspector", {
  a: "start on startup\nrespawn\nexec sleep 1000\n",
}, async (d) => {
  const pid = d.process!.pid;
  await d.waitRunning("a");
  // Caught by a handler that does nothing, not ignored (an ignored signal is inherited by children).
  for (const [name, bit] of [["SIGUSR1", USR1_BIT], ["SIGALRM", ALRM_BIT]] as const) {
    assert((sigMask(pid, "SigCgt") & bit) !== 0n, `${name} is not caught`);
    assert((sigMask(pid, "SigIgn") & bit) === 0n, `${name} is ignored, not caught`);
  }
  Deno.kill(pid, "SIGUSR1"); // before Deno's own listener starts: its default action ends a process
  Deno.kill(pid, "SIGALRM");

  await usr1LeavesAlone(pid, () => d.output);
  assert((await d.initctl("status", "a")).stdout.includes("start/running"));
});

Deno.test({
  name: "SIGUSR1: `upkeep run` lives on and opens no inspector",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const [cmd, ...pre] = upkeepArgv();
    const child = new Deno.Command(cmd!, {
      args: [...pre, "run", "--no-log", "--", "sh", "-c", "echo started $$; exec sleep 60"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let output = "";
    const dec = new TextDecoder();
    const read = (s: ReadableStream<Uint8Array>) =>
      (async () => {
        for await (const c of s) output += dec.decode(c, { stream: true });
      })();
    const readers = [read(child.stdout), read(child.stderr)];
    let job = 0;
    try {
      job = Number(await waitFor(() => /started (\d+)/.exec(output)?.[1], "the job to start"));
      await usr1LeavesAlone(child.pid, () => output);
    } finally {
      for (const pid of [child.pid, job]) {
        try {
          if (pid) Deno.kill(pid, "SIGTERM"); // upkeep run passes it on to the job
        } catch { /* gone */ }
      }
      await child.status;
      await Promise.all(readers);
    }
  },
});

daemonTest(
  "SIGUSR1: an `initctl start` waiting for its job lives on and opens no inspector",
  (dir) => ({
    slow: `pre-start exec sh -c 'while [ ! -e ${dir}/go ]; do sleep 0.02; done'\nexec sleep 1000\n`,
  }),
  async (d) => {
    const [cmd, ...pre] = upkeepArgv();
    const child = new Deno.Command(cmd!, {
      args: [...pre, "initctl", "--socket", d.socket, "start", "slow"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const out = child.output();
    try {
      await d.waitStatus("slow", /start\/pre-start/);
      await usr1LeavesAlone(child.pid, () => "");
    } finally {
      Deno.writeTextFileSync(`${d.dir}/go`, "");
    }
    const r = await out;
    const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
    assert(r.code === 0 && /slow start\/running/.test(text), `initctl start: ${r.code} ${text}`);
    assert(!/Debugger listening/.test(text), text);
  },
);
