/**
 * StateStore on a real temporary directory: records and process starts/ends come back from the
 * journal and from snapshots exactly as they were last said, in the order they were said, also
 * when a daemon is killed before any snapshot and when a record's text is repeated unchanged.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { instanceKey, RESERVE_BYTES, StateStore } from "../../../lib/supervisor/state_store.ts";
import type { State } from "../../../lib/supervisor/transitions.ts";
import { instanceRecord } from "./record_fixture.ts";
import { defaultJob } from "../../../lib/job/model.ts";
import { newInstance } from "../../../lib/supervisor/instance.ts";

type Procs = Record<string, { pid: number; start: number | null }>;

/** A whole record (the store keeps only records a restore can use). */
function recordText(name: string, procs: Procs, state: State = "running"): string {
  const st = { ...newInstance(0), goal: "start" as const, state };
  return JSON.stringify(instanceRecord(defaultJob(name, `${name}.conf`), st, procs));
}

function withDir(fn: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync({ prefix: "upkeep-state-store-" });
  try {
    fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** What a new daemon would read from `dir`: each instance's procs and state, by job. */
function reload(dir: string): Record<string, { procs: Procs; state: string }> {
  const logs: string[] = [];
  const loaded = new StateStore(dir, (m) => logs.push(m)).load();
  deepEqual(loaded.unreadable, []);
  deepEqual(logs, []);
  return Object.fromEntries(
    loaded.instances.map((r) => [r.job.name, { procs: r.procs as Procs, state: r.st.state }]),
  );
}

const A = instanceKey("a", "");
const B = instanceKey("b", "");

Deno.test("state store: process starts and ends after a record come back from the journal", () => {
  withDir((dir) => {
    const store = new StateStore(dir, () => {});
    store.load();
    store.record({ instances: [[A, recordText("a", { main: { pid: 10, start: 1 } })]] });
    store.record({ processes: [{ key: A, kind: "main", pid: null, start: null }] });
    store.record({ processes: [{ key: A, kind: "main", pid: 11, start: 2 }] });
    store.record({ processes: [{ key: A, kind: "postStop", pid: 12, start: 3 }] });
    store.record({ processes: [{ key: A, kind: "postStop", pid: null, start: null }] });
    // Killed here: no snapshot was written, the journal holds it all.
    deepEqual(reload(dir), { a: { procs: { main: { pid: 11, start: 2 } }, state: "running" } });
  });
});

Deno.test("state store: a record said after process changes wins over them, later ones apply", () => {
  withDir((dir) => {
    const store = new StateStore(dir, () => {});
    store.load();
    store.record({ instances: [[A, recordText("a", {})]] });
    store.record({ processes: [{ key: A, kind: "main", pid: 20, start: 1 }] });
    // A whole new text (it knows of no process), then a start in the same batch after it.
    store.record({
      instances: [[A, recordText("a", {}, "stopping")]],
      processes: [{ key: A, kind: "preStop", pid: 21, start: 2 }],
    });
    deepEqual(reload(dir), {
      a: { procs: { preStop: { pid: 21, start: 2 } }, state: "stopping" },
    });
  });
});

Deno.test("state store: the same record text again after process changes is written again", () => {
  withDir((dir) => {
    const store = new StateStore(dir, () => {});
    store.load();
    const text = recordText("a", { main: { pid: 30, start: 1 } });
    store.record({ instances: [[A, text]] });
    store.record({ processes: [{ key: A, kind: "main", pid: null, start: null }] });
    store.record({ instances: [[A, text]] }); // says pid 30 runs: that must be what is kept
    deepEqual(reload(dir), { a: { procs: { main: { pid: 30, start: 1 } }, state: "running" } });
  });
});

Deno.test("state store: snapshots fold process changes in, for every instance", () => {
  withDir((dir) => {
    const store = new StateStore(dir, () => {});
    store.load();
    store.record({
      instances: [[A, recordText("a", {})], [B, recordText("b", { main: { pid: 40, start: 1 } })]],
    });
    store.record({
      processes: [
        { key: A, kind: "main", pid: 41, start: 2 },
        { key: B, kind: "main", pid: null, start: null },
      ],
    });
    store.record({}, true); // a snapshot (as before a re-exec); the journal starts again
    equal(Deno.readTextFileSync(`${dir}/state/journal`), "");
    deepEqual(reload(dir), {
      a: { procs: { main: { pid: 41, start: 2 } }, state: "running" },
      b: { procs: {}, state: "running" },
    });
    // And the store goes on from the snapshot: a later change lands on the folded record.
    store.record({ processes: [{ key: A, kind: "main", pid: null, start: null }] });
    deepEqual(reload(dir).a, { procs: {}, state: "running" });
  });
});

Deno.test("state store: a loaded store folds the journal in before it writes a snapshot", () => {
  withDir((dir) => {
    const first = new StateStore(dir, () => {});
    first.load();
    first.record({ instances: [[A, recordText("a", {})]] });
    first.record({ processes: [{ key: A, kind: "main", pid: 50, start: 1 }] });
    // A second daemon (after kill -9) loads, then writes a snapshot of what it loaded.
    const second = new StateStore(dir, () => {});
    deepEqual(second.load().instances[0]!.procs, { main: { pid: 50, start: 1 } });
    second.record({}, true);
    deepEqual(reload(dir), { a: { procs: { main: { pid: 50, start: 1 } }, state: "running" } });
  });
});

Deno.test("state store: a process journalled before its instance's record is kept apart", () => {
  withDir((dir) => {
    const store = new StateStore(dir, () => {});
    store.load();
    store.record({ processes: [{ key: B, kind: "main", pid: 60, start: 1 }] });
    const loaded = new StateStore(dir, () => {}).load();
    deepEqual(loaded.lone, [{ job: "b", instance: "", kind: "main", pid: 60, start: 1 }]);
    deepEqual(loaded.instances, []);
  });
});

Deno.test("state store: after a journal torn mid-line, the next daemon's changes are kept", () => {
  // Chaos (scripts/restart_chaos.ts): the next daemon's first line was appended to the torn
  // one, and both were lost at the restart after.
  withDir((dir) => {
    const first = new StateStore(dir, () => {});
    first.load();
    first.record({ instances: [[A, recordText("a", {})]] });
    first.record({ processes: [{ key: A, kind: "main", pid: 70, start: 1 }] });
    const journal = `${dir}/state/journal`;
    Deno.truncateSync(journal, Deno.statSync(journal).size - 10); // killed in mid-write
    const second = new StateStore(dir, () => {});
    const loaded = second.load();
    deepEqual(loaded.instances[0]!.procs, {}); // the torn start is lost, nothing else
    second.record({ instances: [[B, recordText("b", { main: { pid: 71, start: 2 } })]] });
    deepEqual(reload(dir), {
      a: { procs: {}, state: "running" },
      b: { procs: { main: { pid: 71, start: 2 } }, state: "running" },
    });
  });
});

Deno.test("state store: a last line cut short of its newline only is kept, and so is the next", () => {
  withDir((dir) => {
    const first = new StateStore(dir, () => {});
    first.load();
    first.record({ instances: [[A, recordText("a", { main: { pid: 75, start: 1 } })]] });
    const journal = `${dir}/state/journal`;
    Deno.truncateSync(journal, Deno.statSync(journal).size - 1);
    const second = new StateStore(dir, () => {});
    deepEqual(second.load().unreadable, []);
    second.record({ instances: [[B, recordText("b", {})]] });
    deepEqual(reload(dir), {
      a: { procs: { main: { pid: 75, start: 1 } }, state: "running" },
      b: { procs: {}, state: "running" },
    });
  });
});

Deno.test("state store: a torn or unreadable journal is named in what could not be read", () => {
  withDir((dir) => {
    const first = new StateStore(dir, () => {});
    first.load();
    first.record({ instances: [[A, recordText("a", {})]] });
    first.record({ processes: [{ key: A, kind: "main", pid: 80, start: 1 }] });
    const journal = `${dir}/state/journal`;
    Deno.truncateSync(journal, Deno.statSync(journal).size - 10);
    const torn = new StateStore(dir, () => {}).load().unreadable;
    equal(torn.length, 1);
    ok(torn[0]!.startsWith(`${journal} (line 2`), torn[0]);
    Deno.removeSync(journal);
    Deno.mkdirSync(journal); // cannot be read at all
    deepEqual(new StateStore(dir, () => {}).load().unreadable, [journal]);
  });
});

/** A tmpfs of `kib` KiB for `fn`, or nothing where mounting is not allowed (not root). */
function withSmallDisk(kib: number, fn: (dir: string) => void): boolean {
  const dir = Deno.makeTempDirSync({ prefix: "upkeep-full-disk-" });
  const mount = new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${kib}k`, "tmpfs", dir],
  })
    .outputSync();
  try {
    if (!mount.success) return false;
    try {
      fn(dir);
    } finally {
      new Deno.Command("umount", { args: ["-l", dir] }).outputSync(); // lazy: the store holds its journal open
    }
    return true;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** Fill the disk holding `dir` to the last byte. */
function fill(dir: string): void {
  const f = Deno.openSync(`${dir}/fill`, { write: true, create: true });
  try {
    const block = new Uint8Array(4096);
    for (;;) f.writeSync(block);
  } catch {
    /* full */
  } finally {
    f.close();
  }
}

Deno.test({
  name:
    "state store on a full disk: the reserve takes the records; then a snapshot once there is room",
  ignore: Deno.uid() !== 0,
  fn: () => {
    const logs: string[] = [];
    const ran = withSmallDisk(2048, (dir) => {
      const store = new StateStore(dir, (m) => logs.push(m));
      store.load();
      equal(Deno.statSync(`${dir}/state/reserve`).size, RESERVE_BYTES);
      fill(dir);
      // A start while the disk is full: what a restarted daemon needs to adopt, not start twice.
      store.record({ instances: [[A, recordText("a", { main: { pid: 10, start: 1 } })]] });
      store.record({ processes: [{ key: A, kind: "main", pid: 11, start: 2 }] });
      deepEqual(reload(dir), { a: { procs: { main: { pid: 11, start: 2 } }, state: "running" } });
      ok(logs.some((m) => /writing into the room kept in reserve/.test(m)), logs.join("\n"));
      // With the reserve gone too, the journal falls behind; the state in memory is written
      // whole once there is room again, and the reserve made again.
      fill(dir);
      store.record({ instances: [[B, recordText("b", { main: { pid: 20, start: 3 } })]] });
      Deno.removeSync(`${dir}/fill`);
      store.record({ processes: [{ key: B, kind: "main", pid: 21, start: 4 }] });
      deepEqual(reload(dir), {
        a: { procs: { main: { pid: 11, start: 2 } }, state: "running" },
        b: { procs: { main: { pid: 21, start: 4 } }, state: "running" },
      });
      equal(Deno.statSync(`${dir}/state/reserve`).size, RESERVE_BYTES);
    });
    if (!ran) console.log("(no tmpfs could be mounted here: not run)");
  },
});

Deno.test("state store: a record garbled into other JSON is named, the others load, its main process is kept", () => {
  withDir((dir) => {
    const store = new StateStore(dir, () => {});
    store.load();
    store.record({
      instances: [[A, recordText("a", { main: { pid: 90, start: 1 } })], [B, recordText("b", {})]],
    });
    type Rec = {
      st: Record<string, unknown>;
      procs: Record<string, unknown>;
      job: Record<string, unknown>;
      env: unknown;
    };
    // Whether its main process (pid 90) is still to be taken over: the record still says it; and
    // whether the environment it was started with is too (then a respawn runs with it).
    const cases: [(r: Rec) => unknown, boolean, boolean][] = [
      [(r) => r.st.pids = null, true, true],
      [(r) => r.procs.main = { pid: "x", start: 1 }, false, false],
      [(r) => (r.st.pids = null, r.procs.main = { pid: 90, start: null }), false, false], // pid alone
      [(r) => r.st.state = "flying", true, true],
      [(r) => r.job.startOn = 5, true, true],
      [(r) => r.job.respawn = "yes", true, true],
      [(r) => r.env = { A: 1 }, true, false],
      [(r) => r.env = "N=1", true, false],
      [(r) => delete r.job.killTimeout, true, true],
      [(r) => (r.st.pids = null, r.st.goal = "stop"), false, false],
      [(r) => (r.st.pids = null, r.st.forksLeft = 1), false, false],
    ];
    for (const [garble, salvaged, withEnv] of cases) {
      const rec = JSON.parse(recordText("a", { main: { pid: 90, start: 1 } }));
      rec.env = { N: "1" };
      garble(rec);
      store.record({ instances: [[A, JSON.stringify(rec)]] });
      const next = new StateStore(dir, () => {});
      const loaded = next.load();
      deepEqual(loaded.unreadable, ["instance a"], String(garble));
      deepEqual(loaded.instances.map((r) => r.job.name), ["b"]);
      deepEqual(
        loaded.lone,
        salvaged
          ? [{
            job: "a",
            instance: "",
            kind: "main",
            pid: 90,
            start: 1,
            ...(withEnv ? { env: { N: "1" } } : {}),
          }]
          : [],
        String(garble),
      );
      // Named once: the next daemon's first write says it is gone.
      next.record({});
      deepEqual(Object.keys(reload(dir)), ["b"]);
    }
  });
});
