/** Where the log FIFOs go: tmpfs found from mountinfo, a private /dev/shm directory otherwise. */

import { equal, match, notEqual } from "node:assert/strict";
import { fifoDirFor, filesystemOf, pathHash } from "../../../lib/log/fifo_dir.ts";

const MOUNTINFO = [
  "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
  "25 22 0:21 / /run rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,size=1000k",
  "26 25 0:22 / /run/user/1000 rw shared:6 - tmpfs tmpfs rw",
  "27 22 0:23 / /srv/my\\040disk rw shared:7 - xfs /dev/vdb rw",
].join("\n");

Deno.test("filesystemOf() takes the longest mount point that holds the path", () => {
  equal(filesystemOf("/var/lib/upkeep", MOUNTINFO), "ext4");
  equal(filesystemOf("/run/upkeep", MOUNTINFO), "tmpfs");
  equal(filesystemOf("/run", MOUNTINFO), "tmpfs");
  equal(filesystemOf("/runner/x", MOUNTINFO), "ext4"); // /run is not a prefix of /runner
  equal(filesystemOf("/srv/my disk/state", MOUNTINFO), "xfs"); // \040 is a space
  equal(filesystemOf("/x", ""), null);
});

Deno.test("pathHash() is stable, 16 hex digits, and tells paths apart", () => {
  equal(pathHash("/tmp/a"), pathHash("/tmp/a"));
  match(pathHash("/tmp/a"), /^[0-9a-f]{16}$/);
  notEqual(pathHash("/tmp/a"), pathHash("/tmp/b"));
});

const shmIsTmpfs = filesystemOf("/dev/shm") === "tmpfs";
const probe = Deno.makeTempDirSync({ prefix: "upkeep-probe-" });
const tmpIsTmpfs = filesystemOf(Deno.realPathSync(probe));
Deno.removeSync(probe);

Deno.test({
  name: "fifoDirFor() keeps a tmpfs state directory's own logs dir",
  ignore: !shmIsTmpfs,
  fn() {
    const state = Deno.makeTempDirSync({ dir: "/dev/shm", prefix: "upkeep-test-state-" });
    try {
      const notes: string[] = [];
      equal(fifoDirFor(state, `${state}/logs`, (m) => notes.push(m)), `${state}/logs`);
      equal(notes.length, 0);
    } finally {
      Deno.removeSync(state, { recursive: true });
    }
  },
});

Deno.test({
  name: "fifoDirFor() puts the FIFOs of a disk state directory in a private /dev/shm dir",
  ignore: !shmIsTmpfs || tmpIsTmpfs === "tmpfs",
  fn() {
    const state = Deno.makeTempDirSync({ prefix: "upkeep-test-state-" });
    const uid = Deno.uid() ?? 0;
    const expected = `/dev/shm/upkeep-${uid}-${pathHash(Deno.realPathSync(state))}`;
    try {
      const notes: string[] = [];
      const dir = fifoDirFor(state, `${state}/logs`, (m) => notes.push(m));
      equal(dir, expected);
      equal(Deno.lstatSync(dir).mode! & 0o777, 0o700);
      // The next daemon on the same state directory finds the same one.
      equal(fifoDirFor(state, `${state}/logs`, (m) => notes.push(m)), expected);
      equal(notes.length, 0);
      // Opened up by someone (or planted with other modes): refused, with the reason.
      Deno.chmodSync(dir, 0o755);
      equal(fifoDirFor(state, `${state}/logs`, (m) => notes.push(m)), `${state}/logs`);
      match(notes[0]!, /not a private directory/);
      // A symlink planted at the name is refused too.
      Deno.removeSync(dir);
      Deno.symlinkSync(state, dir);
      equal(fifoDirFor(state, `${state}/logs`, (m) => notes.push(m)), `${state}/logs`);
      equal(notes.length, 2);
    } finally {
      Deno.removeSync(expected, { recursive: true });
      Deno.removeSync(state, { recursive: true });
    }
  },
});
