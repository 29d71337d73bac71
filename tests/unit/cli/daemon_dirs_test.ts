/** prepareDaemonDirs(): creates missing dirs 0755 and refuses ones that someone else controls. */

import assert from "node:assert/strict";
import { prepareDaemonDirs } from "../../../lib/cli/daemon_dirs.ts";

async function withTemp(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "upkeep-dirs-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("prepareDaemonDirs() creates missing directories 0755", async () => {
  await withTemp((dir) => {
    assert.equal(prepareDaemonDirs([`${dir}/state/run`, `${dir}/log`]), null);
    assert.equal(Deno.statSync(`${dir}/state/run`).mode! & 0o777, 0o755);
  });
});

Deno.test("prepareDaemonDirs() refuses a directory others may write", async () => {
  await withTemp((dir) => {
    Deno.mkdirSync(`${dir}/open`);
    Deno.chmodSync(`${dir}/open`, 0o777);
    assert.equal(
      prepareDaemonDirs([`${dir}/open`]),
      `refusing ${dir}/open: it is writable by group (mode 0777) ` +
        `(chown it to uid ${Deno.uid()} and chmod go-w it)`,
    );
    assert.match(
      prepareDaemonDirs([`${dir}/open/sub`])!,
      /the directory .*\/open above it is writable by others \(mode 0777\)$/,
    );
    Deno.chmodSync(`${dir}/open`, 0o1777); // sticky, as /tmp: fine above
    assert.equal(prepareDaemonDirs([`${dir}/open/sub2`]), null);
  });
});

Deno.test({
  name: "prepareDaemonDirs() refuses a directory another user created first (a /tmp squat)",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    await withTemp((dir) => {
      Deno.mkdirSync(`${dir}/squat`, { mode: 0o755 });
      Deno.chownSync(`${dir}/squat`, 65534, 65534);
      assert.match(
        prepareDaemonDirs([`${dir}/squat`])!,
        /^refusing .*\/squat: it is owned by uid 65534, not root/,
      );
    });
  },
});
