/**
 * InotifyConfWatcher on a real temp dir: which directories it watches, that a FIFO or a link to a
 * /proc file cannot hold it up, and which changes call for a reload. The kernel queues an event
 * before the system call that caused it returns, so drain() right after sees it: no waiting.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { InotifyConfWatcher } from "../../../lib/watch/conf_watcher.ts";
import { watchConfDirs } from "../../../lib/watch/conf_watch.ts";

interface Probe {
  dir: string;
  w: InotifyConfWatcher;
  /** How many times a reload was asked for since the last call. */
  changes(): number;
  logged: string[];
}

async function withWatcher(
  setup: (dir: string) => void,
  body: (p: Probe) => void | Promise<void>,
): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: "upkeep-watch-" });
  let count = 0;
  const logged: string[] = [];
  let w: InotifyConfWatcher | null = null;
  try {
    setup(dir);
    w = InotifyConfWatcher.open([dir], { changed: () => count++, log: (m) => logged.push(m) });
    ok(w, "inotify through FFI");
    const probe = {
      dir,
      w,
      logged,
      changes: () => {
        w!.drain();
        const n = count;
        count = 0;
        return n;
      },
    };
    await body(probe);
  } finally {
    w?.close();
    Deno.removeSync(dir, { recursive: true });
  }
}

const mkfifo = (path: string) => {
  const r = new Deno.Command("mkfifo", { args: [path] }).outputSync();
  equal(r.code, 0, new TextDecoder().decode(r.stderr));
};

Deno.test("watches the conf dir and each searched subdirectory, not linked or ignored ones", async () => {
  const outside = Deno.makeTempDirSync();
  try {
    await withWatcher((dir) => {
      for (const d of ["net", "net/deep", ".git", "old~"]) Deno.mkdirSync(`${dir}/${d}`);
      Deno.symlinkSync(outside, `${dir}/linked`);
    }, ({ dir, w }) => {
      deepEqual(w.watched(), [dir, `${dir}/net`, `${dir}/net/deep`]);
    });
  } finally {
    Deno.removeSync(outside, { recursive: true });
  }
});

Deno.test("a FIFO or a link to /proc/kmsg made in the conf dir does not hold the watch up", async () => {
  await withWatcher(() => {}, ({ dir, changes }) => {
    mkfifo(`${dir}/fifo`);
    Deno.symlinkSync("/proc/kmsg", `${dir}/kmsg`);
    equal(changes(), 0, "neither is a job file");
    mkfifo(`${dir}/fifo.conf`);
    equal(changes(), 1, "a FIFO named as a job file: reloaded (the loader reports it)");
    Deno.writeTextFileSync(`${dir}/b.conf`, "exec sleep 1\n");
    equal(changes(), 1, "a job file written after them");
  });
});

Deno.test("a job file counts once closed: each write only marks it unsettled", async () => {
  await withWatcher(() => {}, async ({ dir, w, changes }) => {
    const path = `${dir}/a.conf`;
    const f = await Deno.open(path, { write: true, create: true, mode: 0o644 });
    try {
      await f.write(new TextEncoder().encode("exec sleep 1"));
      equal(changes(), 0, "created and written, not closed");
      deepEqual([...w.unsettled()], [path]);
      await f.write(new TextEncoder().encode("000\n"));
      equal(changes(), 0);
    } finally {
      f.close();
    }
    equal(changes(), 1, "closed");
    deepEqual([...w.unsettled()], []);
  });
});

Deno.test("a job file left open with no write for a while is settled: a reload reads it", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "upkeep-watch-" });
  let changed = () => {};
  const w = InotifyConfWatcher.open([dir], {
    changed: () => changed(),
    log: () => {},
    unsettledMs: 100,
  })!;
  const f = await Deno.open(`${dir}/a.conf`, { write: true, create: true, mode: 0o644 });
  try {
    const settled = new Promise<void>((r) => changed = r);
    await f.write(new TextEncoder().encode("exec sleep 1\n"));
    w.drain();
    deepEqual([...w.unsettled()], [`${dir}/a.conf`]);
    await settled;
    deepEqual([...w.unsettled()], []);
  } finally {
    f.close();
    w.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("an existing job file rewritten in place is unsettled until closed", async () => {
  await withWatcher((dir) => Deno.writeTextFileSync(`${dir}/a.conf`, "exec true\n"), async (p) => {
    const f = await Deno.open(`${p.dir}/a.conf`, { write: true, truncate: true });
    try {
      await f.write(new TextEncoder().encode("exec sleep"));
      equal(p.changes(), 0);
      deepEqual([...p.w.unsettled()], [`${p.dir}/a.conf`]);
    } finally {
      f.close();
    }
    equal(p.changes(), 1);
    deepEqual([...p.w.unsettled()], []);
  });
});

Deno.test("renames, removals, mode changes and links reload; other files do not", async () => {
  await withWatcher((dir) => Deno.writeTextFileSync(`${dir}/a.conf`, "exec true\n"), (p) => {
    const d = p.dir;
    Deno.writeTextFileSync(`${d}/notes.txt`, "x");
    Deno.writeTextFileSync(`${d}/.a.conf.swp`, "x");
    equal(p.changes(), 0, "files the loader does not read");
    Deno.chmodSync(`${d}/a.conf`, 0o664);
    equal(p.changes(), 1, "chmod (StrictModes)");
    Deno.writeTextFileSync(`${d}/b.tmp`, "exec true\n");
    equal(p.changes(), 0);
    Deno.renameSync(`${d}/b.tmp`, `${d}/b.conf`);
    equal(p.changes(), 1, "renamed into place");
    Deno.symlinkSync(`${d}/b.conf`, `${d}/c.conf`);
    equal(p.changes(), 1, "a symlink");
    Deno.linkSync(`${d}/b.conf`, `${d}/e.conf`);
    equal(p.changes(), 1, "a hard link");
    Deno.removeSync(`${d}/a.conf`);
    equal(p.changes(), 1, "removed");
    Deno.renameSync(`${d}/b.conf`, `${d}/b.conf.old`);
    equal(p.changes(), 1, "renamed away");
    deepEqual(p.w.unsettled().size, 0);
  });
});

Deno.test("new subdirectories are watched at once, moved ones follow, removed ones are dropped", async () => {
  await withWatcher(() => {}, (p) => {
    const d = p.dir;
    Deno.mkdirSync(`${d}/a/b/c`, { recursive: true });
    equal(p.changes(), 1);
    deepEqual(p.w.watched(), [d, `${d}/a`, `${d}/a/b`, `${d}/a/b/c`]);
    Deno.writeTextFileSync(`${d}/a/b/c/deep.conf`, "exec true\n");
    equal(p.changes(), 1, "a job file three levels down");
    Deno.renameSync(`${d}/a`, `${d}/z`);
    equal(p.changes(), 2, "renamed away, then in");
    deepEqual(p.w.watched(), [d, `${d}/z`, `${d}/z/b`, `${d}/z/b/c`]);
    Deno.renameSync(`${d}/z`, `${d}/.hidden`);
    equal(p.changes(), 1, "renamed to a name the loader skips");
    deepEqual(p.w.watched(), [d]);
    Deno.writeTextFileSync(`${d}/.hidden/b/c/deep.conf`, "exec false\n");
    equal(p.changes(), 0, "not searched, not watched");
    Deno.mkdirSync(`${d}/gone`);
    equal(p.changes(), 1);
    Deno.removeSync(`${d}/gone`);
    equal(p.changes(), 2, "IN_DELETE in the parent, IN_DELETE_SELF of its own watch");
    deepEqual(p.w.watched(), [d], "IN_IGNORED dropped it");
  });
});

Deno.test("the conf dir removed: logged, and resync() watches it again once it is back", async () => {
  await withWatcher(() => {}, (p) => {
    Deno.removeSync(p.dir);
    equal(p.changes(), 1);
    deepEqual(p.w.watched(), []);
    ok(p.logged.some((m) => m.includes(`${p.dir} is no longer watched`)), p.logged.join("\n"));
    Deno.mkdirSync(p.dir);
    p.w.resync();
    deepEqual(p.w.watched(), [p.dir]);
    Deno.writeTextFileSync(`${p.dir}/a.conf`, "exec true\n");
    equal(p.changes(), 1);
  });
});

Deno.test("watchConfDirs(): one reload for a burst, with the file still being written left out", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "upkeep-watch-" });
  const reloads: ReadonlySet<string>[] = [];
  let reloaded = () => {};
  const watch = watchConfDirs([dir], () => {}, (unsettled) => {
    reloads.push(unsettled);
    reloaded();
  });
  const f = await Deno.open(`${dir}/slow.conf`, { write: true, create: true, mode: 0o644 });
  try {
    await f.write(new TextEncoder().encode("exec sleep 1"));
    const done = new Promise<void>((r) => reloaded = r);
    for (const n of ["a", "b", "c"]) Deno.writeTextFileSync(`${dir}/${n}.conf`, "exec true\n");
    await done;
    equal(reloads.length, 1);
    deepEqual([...reloads[0]!], [`${dir}/slow.conf`]);
  } finally {
    f.close();
    watch.close();
    Deno.removeSync(dir, { recursive: true });
  }
});
