/**
 * End-to-end: the daemon's watch on its conf dir (inotify, lib/watch/). A FIFO or a link to a
 * /proc file made in the conf dir does not stop it; a job file is loaded once its writer closes
 * it, never half-written, not even by a reload that another file's change brings; new
 * subdirectories are watched; a mode change is noticed.
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { daemonTest, logged, type TestDaemon } from "./daemon_helpers.ts";
import { waitFor } from "./helpers.ts";

const enc = new TextEncoder();

async function listed(d: TestDaemon, job: string): Promise<boolean> {
  const r = await d.initctl("list");
  return r.stdout.split("\n").some((l) => l.startsWith(`${job} `));
}

const known = (d: TestDaemon, job: string) =>
  waitFor(() => listed(d, job), `${job} in initctl list`);

function mkfifo(path: string): void {
  const r = new Deno.Command("mkfifo", { args: [path] }).outputSync();
  assertEquals(r.code, 0, new TextDecoder().decode(r.stderr));
}

/** Open a new job file and write its first part; the caller finishes and closes it. */
async function startWriting(d: TestDaemon, name: string, part: string): Promise<Deno.FsFile> {
  const f = await Deno.open(`${d.conf}/${name}.conf`, {
    write: true,
    createNew: true,
    mode: 0o644,
  });
  await f.write(enc.encode(part));
  return f;
}

/** Another job file, written whole: once it is listed, the daemon has reloaded since. */
async function reloadedSince(d: TestDaemon, marker: string): Promise<void> {
  d.writeJob(marker, "exec sleep 1000\n");
  await known(d, marker);
}

daemonTest("a FIFO and a link to /proc/kmsg made in the conf dir: job files are still picked up", {
  early: "exec sleep 1000\n",
}, async (d) => {
  mkfifo(`${d.conf}/pipe`);
  mkfifo(`${d.conf}/fifo.conf`);
  Deno.symlinkSync("/proc/kmsg", `${d.conf}/kmsg`);
  d.writeJob("late", "exec sleep 1000\n");
  await known(d, "late");
  await logged(d, /fifo\.conf:0: not a regular file: skipped/);
  // And the watch goes on after them.
  d.writeJob("later", "exec sleep 1000\n");
  await known(d, "later");
});

daemonTest(
  "a job file written in two pieces is loaded once closed, not in between",
  {},
  async (d) => {
    const f = await startWriting(d, "web", "exec sleep 1"); // a whole job already: `exec sleep 1`
    try {
      await reloadedSince(d, "marker");
      assertEquals(await listed(d, "web"), false, "half-written web.conf was loaded");
      await f.write(enc.encode("000\n"));
    } finally {
      f.close();
    }
    await known(d, "web");
    assertEquals((await d.initctl("start", "web")).code, 0);
    const pid = await d.waitRunning("web");
    const cmdline = await waitFor(() => {
      const c = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
      return c.startsWith("sleep") ? c : null;
    }, "web exec'd");
    assertEquals(cmdline.split("\0").slice(0, 2), ["sleep", "1000"]);
  },
);

daemonTest("a half-written job file whose whole is refused never takes effect", {}, async (d) => {
  const f = await startWriting(d, "web", "exec sleep 1");
  try {
    await reloadedSince(d, "marker");
    await f.write(enc.encode("000\n" + "#".repeat(1100 * 1024) + "\n"));
  } finally {
    f.close();
  }
  await logged(d, /web\.conf:0: file too large/);
  assertEquals(await listed(d, "web"), false);
});

daemonTest("new subdirectories are watched, and a changed mode reloads", {}, async (d) => {
  Deno.mkdirSync(`${d.conf}/net/deep`, { recursive: true, mode: 0o755 });
  d.writeJob("net/deep/web", "exec sleep 1000\n");
  await known(d, "net/deep/web");
  if (Deno.uid() !== 0) return; // StrictModes applies to a root daemon
  Deno.chmodSync(`${d.conf}/net/deep/web.conf`, 0o664);
  await logged(d, /net\/deep\/web\.conf:0: job file refused: it is writable by group/);
});
