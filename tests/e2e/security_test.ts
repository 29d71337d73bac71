/**
 * End-to-end: the reproductions of issue 13 (and issue 12's reply size and initctl timeout), each
 * on a real daemon, as `nobody` where it matters: a job's PATH cannot plant the tools of its
 * set-up; the read-only socket hides the job environment; floods of idle or non-reading clients
 * on the read-only socket neither pin the daemon's descriptors nor starve the owner; a symlink at
 * a log path is refused; a job file others may write is refused; jobs get the daemon's original
 * open-files limit; setuid + limit + nice + chroot work without util-linux. No timing is asserted:
 * the figures (status p99 under flood, RSS) come from scripts/security_bench.ts.
 */

import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { daemonTest, logged, type TestDaemon } from "./daemon_helpers.ts";
import { runUpkeep, tempDir, waitFor } from "./helpers.ts";
import { NOBODY, runUpkeepAsNobody, spawnScriptAsNobody } from "./as_nobody.ts";
import { PROTOCOL_VERSION } from "../../lib/control/protocol.ts";
import { sendRequest } from "../../lib/control/client.ts";
import { childrenOf } from "../../lib/process/proc.ts";

const notRoot = Deno.uid() !== 0;

function statusField(pid: number, field: string): string {
  const m = new RegExp(`^${field}:[ \\t]*(.*)$`, "m").exec(
    Deno.readTextFileSync(`/proc/${pid}/status`),
  );
  return m?.[1]?.trim() ?? "";
}

/** Wait until `pid` runs `comm` (the set-up helper execs the job's program after its steps). */
async function execd(pid: number, comm: string): Promise<void> {
  await waitFor(() => statusField(pid, "Name") === comm, `${pid} to exec ${comm}`);
}

function niceOf(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
}

function fdCount(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}

function rssKb(pid: number): number {
  return Number(/^VmRSS:\s+(\d+)/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`))?.[1]);
}

/** The daemon's pid: the started process, or its child when a launcher shell stays. */
function daemonPid(d: TestDaemon): number {
  const pid = d.process!.pid;
  return childrenOf(pid)[0] ?? pid;
}

// ---- privileged set-up never runs a program from the job's PATH

const PLANTED = ["setpriv", "prlimit", "nice", "chroot", "ionice", "env", "sh"];

daemonTest(
  "a setpriv (prlimit, nice, chroot…) planted in a job's PATH never runs; the job runs as its user",
  (dir) => ({
    planted: `setuid nobody\nlimit nofile 100 200\nnice 5\numask 027\noom score 10\n` +
      `env PATH=${dir}/evil:/usr/bin:/bin\nexec sleep 1000\n`,
  }),
  async (d) => {
    const evil = `${d.dir}/evil`;
    Deno.mkdirSync(evil);
    for (const tool of PLANTED) {
      Deno.writeTextFileSync(
        `${evil}/${tool}`,
        `#!/bin/sh\nid -u >> ${d.dir}/ran-as\nexec /usr/bin/${tool} "$@"\n`,
        { mode: 0o755 },
      );
      Deno.chownSync(`${evil}/${tool}`, NOBODY, NOBODY);
    }
    Deno.chownSync(evil, NOBODY, NOBODY); // the user's own directory
    const r = await d.initctl("start", "planted");
    assertEquals(r.code, 0, r.stderr);
    const pid = await d.waitRunning("planted");
    await execd(pid, "sleep");
    assertMatch(statusField(pid, "Uid"), /^65534\s+65534\s+65534\s+65534$/);
    assertEquals(niceOf(pid), 5);
    assertEquals(statusField(pid, "Umask"), "0027");
    let ran = "";
    try {
      ran = Deno.readTextFileSync(`${d.dir}/ran-as`);
    } catch { /* nothing planted ran */ }
    assertEquals(ran, "", "a planted tool ran");
  },
  { ignore: notRoot },
);

daemonTest(
  "setuid, limit, nice and chroot work with a PATH that has no setpriv, prlimit, nice or chroot",
  (dir) => ({
    jailed: `chroot ${dir}/jail\nchdir /data\nsetuid nobody\nlimit nofile 64 128\nnice 7\n` +
      `env PATH=/jail-bin\nexec sleep 1000\n`,
  }),
  async (d) => {
    const root = `${d.dir}/jail`;
    makeJail(root);
    const r = await d.initctl("start", "jailed");
    assertEquals(r.code, 0, `${r.stdout}${r.stderr}`);
    const pid = await d.waitRunning("jailed");
    await execd(pid, "sleep");
    assertEquals(Deno.readLinkSync(`/proc/${pid}/cwd`), `${root}/data`);
    assertMatch(statusField(pid, "Uid"), /^65534\s/);
    assertEquals(niceOf(pid), 7);
    assertMatch(Deno.readTextFileSync(`/proc/${pid}/limits`), /^Max open files\s+64\s+128\s/m);
  },
  { ignore: notRoot },
);

/** A minimal root: sleep (and its libraries) in /jail-bin, an empty /data. */
function makeJail(root: string): void {
  Deno.mkdirSync(`${root}/data`, { recursive: true });
  Deno.chmodSync(root, 0o755);
  const real = Deno.realPathSync("/usr/bin/sleep");
  const deps = new Deno.Command("ldd", { args: [real], stdout: "piped" }).outputSync();
  const libs = [...new TextDecoder().decode(deps.stdout).matchAll(/(\/\S+\.so[.\d]*)/g)]
    .map((m) => m[1]!);
  for (const src of libs) {
    const to = `${root}${src}`;
    Deno.mkdirSync(to.slice(0, to.lastIndexOf("/")), { recursive: true });
    Deno.copyFileSync(src, to);
  }
  Deno.mkdirSync(`${root}/jail-bin`);
  Deno.copyFileSync(real, `${root}/jail-bin/sleep`);
  Deno.chmodSync(`${root}/jail-bin/sleep`, 0o755);
  // setuid of a chroot job names a user of the jail, as in Upstart (looked up after chroot()).
  Deno.mkdirSync(`${root}/etc`);
  Deno.writeTextFileSync(
    `${root}/etc/passwd`,
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  );
  Deno.writeTextFileSync(`${root}/etc/group`, "root:x:0:\nnogroup:x:65534:\n");
}

// ---- the read-only socket

daemonTest(
  "the read-only socket serves status but never the job environment (set-env secrets)",
  { web: "exec sleep 1000\n" },
  async (d) => {
    assertEquals((await d.initctl("set-env", "DB_PASSWORD=hunter2")).code, 0);
    assertEquals((await d.initctl("get-env", "DB_PASSWORD")).stdout.trim(), "hunter2");
    assertEquals(Deno.statSync(d.socket).mode! & 0o777, 0o600);
    assertEquals(Deno.statSync(`${d.socket}.ro`).mode! & 0o777, 0o666);
    const as = (...args: string[]) => runUpkeepAsNobody(["initctl", "--socket", d.socket, ...args]);
    for (const args of [["get-env", "DB_PASSWORD"], ["list-env"], ["check-config"]]) {
      const r = await as(...args);
      assertEquals(r.code, 1, `${args[0]}: ${r.stdout}`);
      assert(!r.stdout.includes("hunter2") && !r.stderr.includes("hunter2"), args[0]);
      assertMatch(r.stderr, /^initctl: Permission denied: '[a-z-]+' needs the daemon's user$/m);
    }
    const status = await as("status", "web");
    assertEquals([status.code, status.stdout.trim()], [0, "web stop/waiting"]);
  },
  { ignore: notRoot },
);

daemonTest(
  "the read-only socket takes small requests only; the owner's takes large ones",
  { web: "exec sleep 1000\n" },
  async (d) => {
    // show-config reads only the job name (as Upstart's), so the big variable is just weight.
    const big = JSON.stringify({
      v: PROTOCOL_VERSION,
      cmd: "show-config",
      args: ["web", `X=${"y".repeat(20_000)}`],
      options: {},
    }) + "\n";
    const ask = async (path: string) => {
      const conn = await Deno.connect({ transport: "unix", path });
      try {
        await conn.write(new TextEncoder().encode(big)).catch(() => 0);
        const buf = new Uint8Array(4096);
        const n = await conn.read(buf).catch(() => null);
        return n ? new TextDecoder().decode(buf.subarray(0, n)) : "";
      } finally {
        conn.close();
      }
    };
    assertMatch(await ask(`${d.socket}.ro`), /request too large \(the limit is 16384 bytes\)/);
    assertMatch(await ask(d.socket), /"ok":true/);
  },
);

/** A nobody process holding `count` idle connections to `path`; resolves once they are open. */
const IDLE_FLOODER = `
const [path, countText] = Deno.args;
const conns = [];
let failures = 0;
while (conns.length < Number(countText)) {
  try {
    conns.push(await Deno.connect({ transport: "unix", path }));
  } catch (e) {
    if (/Too many open files/.test(String(e)) || ++failures > 100000) break;
    await new Promise((r) => setTimeout(r, 2));
  }
}
console.log("open " + conns.length);
setInterval(() => {}, 1000);
`;

/** A nobody process sending `count` requests (JSON in args) and never reading the replies. */
const NON_READER = `
const [path, countText, request] = Deno.args;
const conns = [];
const bytes = new TextEncoder().encode(request + "\\n");
let failures = 0;
while (conns.length < Number(countText)) {
  try {
    const c = await Deno.connect({ transport: "unix", path });
    c.write(bytes).catch(() => {});
    conns.push(c);
  } catch (e) {
    if (/Too many open files/.test(String(e)) || ++failures > 100000) break;
    await new Promise((r) => setTimeout(r, 2));
  }
}
console.log("sent " + conns.length);
setInterval(() => {}, 1000);
`;

/** Start a nobody script and wait for its first output line. */
async function startFlooder(
  source: string,
  args: string[],
): Promise<{ child: Deno.ChildProcess; line: string }> {
  const child = await spawnScriptAsNobody(source, args);
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return { child, line: text.trim() };
}

async function stop(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch { /* gone */ }
  await child.status;
  await child.stdout.cancel().catch(() => {});
  await child.stderr.cancel().catch(() => {});
  await child.stdin.close().catch(() => {});
}

/** Daemon under a 4096 open-files limit, as on hosts where 5,000 connections reach it. */
const LOW_FD_LIMIT = ["/bin/sh", "-c", 'ulimit -n 4096 && exec "$@"', "sh"];

daemonTest(
  "5,000 idle connections from nobody on the read-only socket: excess closed, owner still answers",
  { web: "exec sleep 1000\n" },
  async (d) => {
    const pid = daemonPid(d);
    const before = fdCount(pid);
    const { child, line } = await startFlooder(IDLE_FLOODER, [`${d.socket}.ro`, "5000"]);
    try {
      assertEquals(line, "open 5000");
      // The daemon holds at most its read-only cap of them, whatever the flood.
      assert(fdCount(pid) < before + 64 + 20, `daemon holds ${fdCount(pid)} fds`);
      for (let i = 0; i < 20; i++) {
        const r = await sendRequest(d.socket, {
          v: PROTOCOL_VERSION,
          cmd: "status",
          args: ["web"],
          options: {},
        }, 5000);
        assertEquals(r.ok && r.out, "web stop/waiting");
      }
      const ro = await runUpkeepAsNobody(["initctl", "--socket", d.socket, "status", "web"]);
      assertMatch(`${ro.stdout}${ro.stderr}`, /web stop\/waiting|upkeep is busy: too many/);
    } finally {
      await stop(child);
    }
    await waitFor(() => fdCount(pid) <= before + 2, "daemon fds back to where they were");
  },
  { ignore: notRoot, launcher: LOW_FD_LIMIT },
);

daemonTest(
  "1,000 nobody clients that never read a 270 KB reply are cut off; fds and memory come back",
  { big: `usage "${"u".repeat(270_000)}"\nexec sleep 1000\n` },
  async (d) => {
    const pid = daemonPid(d);
    const request = JSON.stringify({
      v: PROTOCOL_VERSION,
      cmd: "usage",
      args: ["big"],
      options: {},
    });
    const fdsBefore = fdCount(pid);
    const rssBefore = rssKb(pid);
    const { child, line } = await startFlooder(NON_READER, [`${d.socket}.ro`, "1000", request]);
    try {
      assertEquals(line, "sent 1000");
      // Still connected and still not reading: the daemon lets go of them by its write deadline.
      await waitFor(
        () => fdCount(pid) <= fdsBefore + 2,
        "daemon to drop the stuck clients",
        30_000,
      );
      const grown = rssKb(pid) - rssBefore;
      assert(grown < 50 * 1024, `daemon RSS grew ${grown} kB`);
      assertEquals((await d.initctl("status", "big")).stdout.trim(), "big stop/waiting");
    } finally {
      await stop(child);
    }
  },
  { ignore: notRoot },
);

const EVENTS = Array.from({ length: 90_000 }, (_, i) => `e${i}`);

daemonTest(
  "replies of any size: show-config of a job emitting 90,000 events (1.3 MB) comes through whole",
  { loud: `emits ${EVENTS.join(" ")}\nexec sleep 1000\n` },
  async (d) => {
    const r = await d.initctl("show-config", "loud");
    assertEquals(r.code, 0, r.stderr);
    assert(r.stdout.length > 1 << 20, `${r.stdout.length} bytes`);
    const lines = r.stdout.trimEnd().split("\n");
    assertEquals(lines.length, 1 + EVENTS.length);
    assertEquals(lines.at(-1)!.trim(), `emits ${EVENTS.at(-1)}`);
  },
);

Deno.test("initctl gives up on a daemon that does not answer, with a clear message", async () => {
  const dir = await tempDir();
  const path = `${dir.path}/silent.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const c of listener) held.push(c); // accept, never answer
    } catch { /* closed */ }
  })();
  try {
    const r = await runUpkeep(["initctl", "--socket", path, "--timeout", "1", "status", "x"]);
    assertEquals(r.code, 1);
    assertEquals(
      r.stderr.trim(),
      `initctl: upkeep did not answer within 1 s on ${path}: it may be stalled or overloaded ` +
        "(--timeout SECONDS waits longer; 0 waits for ever)",
    );
  } finally {
    listener.close();
    await accepting;
    for (const c of held) c.close();
    await dir.cleanup();
  }
});

// ---- files

daemonTest(
  "a symlink planted at a job's log path is refused, never followed; logs are created 0640",
  {
    victim: "task\nexec echo secret-output\n",
    plain: "task\nexec echo hello\n",
  },
  async (d) => {
    const target = `${d.dir}/precious`;
    Deno.writeTextFileSync(target, "precious\n");
    Deno.symlinkSync(target, `${d.logs}/victim.log`);
    await d.initctl("start", "victim");
    assertEquals(Deno.readTextFileSync(target), "precious\n");
    await logged(d, /cannot open log \S+\/victim\.log: it is a symbolic link/);
    assert(Deno.lstatSync(`${d.logs}/victim.log`).isSymlink);
    assertEquals((await d.initctl("start", "plain")).code, 0);
    await waitFor(() => d.readLog("plain.log") === "hello\n", "plain's log");
    assertEquals(Deno.statSync(`${d.logs}/plain.log`).mode! & 0o777, 0o640);
  },
);

daemonTest(
  "as root, a job file that others may change is refused, and check-config says the same",
  { ok: "exec sleep 1000\n" },
  async (d) => {
    d.writeJob("writable", "exec sleep 1000\n");
    Deno.chmodSync(`${d.conf}/writable.conf`, 0o664);
    d.writeJob("theirs", "exec sleep 1000\n");
    Deno.chownSync(`${d.conf}/theirs.conf`, NOBODY, NOBODY);
    assertEquals((await d.initctl("reload-configuration")).code, 0);
    const writable = "job file refused: it is writable by group (mode 0664); only root may be " +
      "able to change what root runs";
    const theirs = "job file refused: it is owned by uid 65534, not root; only root may be able " +
      "to change what root runs";
    await logged(d, new RegExp(escape(`${d.conf}/writable.conf:0: ${writable}`)));
    await logged(d, new RegExp(escape(`${d.conf}/theirs.conf:0: ${theirs}`)));
    assertEquals(
      (await d.initctl("status", "writable")).stderr.trim(),
      "initctl: Unknown job: writable",
    );
    assertEquals(
      (await d.initctl("status", "theirs")).stderr.trim(),
      "initctl: Unknown job: theirs",
    );
    assertEquals((await d.initctl("status", "ok")).stdout.trim(), "ok stop/waiting");
    const cc = await runUpkeep(["check-config", d.conf]);
    assertEquals(cc.code, 1);
    assert(cc.stderr.includes(`${d.conf}/writable.conf: ${writable}`), cc.stderr);
    assert(cc.stderr.includes(`${d.conf}/theirs.conf: ${theirs}`), cc.stderr);
    assertMatch(cc.stdout, /ok\.conf: syntax ok/);
  },
  { ignore: notRoot },
);

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// ---- limits

/** Keeps the shell as the daemon's parent (soft open-files limit 777) and passes SIGTERM on. */
const SOFT_777 = [
  "/bin/sh",
  "-c",
  "ulimit -Sn 777; \"$@\" & child=$!; trap 'kill -TERM $child' TERM; wait $child; wait $child",
  "sh",
];

daemonTest(
  "jobs start with the open-files limit the daemon was given (Deno raised its own), then their own",
  (dir) => ({
    plain: `task\nscript\n  ulimit -n > ${dir}/out/plain\nend script\n`,
    user: `task\nsetuid nobody\nscript\n  ulimit -n > ${dir}/out/user\nend script\n`,
    own: `task\nlimit nofile 50 60\nscript\n  ulimit -n > ${dir}/out/own\nend script\n`,
  }),
  async (d) => {
    Deno.mkdirSync(`${d.dir}/out`, { mode: 0o777 });
    Deno.chmodSync(`${d.dir}/out`, 0o777);
    assertMatch(
      Deno.readTextFileSync(`/proc/${daemonPid(d)}/limits`),
      /^Max open files\s+(?!777\s)\d+/m,
    );
    for (const job of ["plain", "user", "own"]) {
      const r = await d.initctl("start", job);
      assertEquals(r.code, 0, `${job}: ${r.stderr}`);
    }
    const read = (f: string) => Deno.readTextFileSync(`${d.dir}/out/${f}`).trim();
    assertEquals([read("plain"), read("user"), read("own")], ["777", "777", "50"]);
  },
  { ignore: notRoot, launcher: SOFT_777 },
);
