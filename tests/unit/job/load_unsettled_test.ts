/**
 * loadConfDirs() with files still being written (`unsettled`, from the conf-dir watcher): a job
 * keeps what was loaded before, a new one waits, and the next load without them reads them.
 */

import { deepEqual, equal } from "node:assert/strict";
import { type LoadCache, loadConfDirs } from "../../../lib/job/load.ts";

function withDir(body: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.chmodSync(dir, 0o755);
    body(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

const write = (path: string, text: string) => {
  Deno.writeTextFileSync(path, text);
  Deno.chmodSync(path, 0o644);
};
const execOf = (r: ReturnType<typeof loadConfDirs>, name: string) => {
  const main = r.jobs.get(name)?.main;
  return main && "exec" in main ? main.exec : undefined;
};

Deno.test("a job file being written keeps its job's last definition until it is settled", () => {
  withDir((dir) => {
    const cache: LoadCache = new Map();
    write(`${dir}/web.conf`, "exec sleep 1000\n");
    equal(execOf(loadConfDirs([dir], {}, cache), "web"), "sleep 1000");
    write(`${dir}/web.conf`, "exec sleep 1"); // half of the new text
    const unsettled = new Set([`${dir}/web.conf`]);
    equal(execOf(loadConfDirs([dir], {}, cache, undefined, unsettled), "web"), "sleep 1000");
    write(`${dir}/web.conf`, "exec sleep 1 --done\n");
    equal(execOf(loadConfDirs([dir], {}, cache), "web"), "sleep 1 --done");
  });
});

Deno.test("a new job file being written is left out, with its override; other jobs load", () => {
  withDir((dir) => {
    const cache: LoadCache = new Map();
    write(`${dir}/new.conf`, "exec sleep");
    write(`${dir}/old.conf`, "exec true\n");
    write(`${dir}/old.override`, "manual\n");
    const r = loadConfDirs([dir], {}, cache, undefined, new Set([`${dir}/new.conf`]));
    deepEqual([...r.jobs.keys()], ["old"]);
    // An override being written holds its job back too (it may be what keeps the job manual).
    write(`${dir}/late.conf`, "exec true\n");
    write(`${dir}/late.override`, "man");
    const unsettled = new Set([`${dir}/late.override`]);
    deepEqual([...loadConfDirs([dir], {}, cache, undefined, unsettled).jobs.keys()].sort(), [
      "new",
      "old",
    ]);
  });
});
