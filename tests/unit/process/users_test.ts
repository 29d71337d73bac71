/** Unit tests of the /etc/passwd and /etc/group parsers and the UserDb built from them. */

import assert from "node:assert/strict";
import { parseGroup, parsePasswd, userDbForJob, userDbFrom } from "../../../lib/process/users.ts";

const db = userDbFrom(
  parsePasswd(
    "# c\nroot:x:0:0:root:/root:/bin/bash\nbad line\nbob:x:1000:100::/home/bob:/bin/sh\n",
  ),
  parseGroup("users:x:100:\ndocker:x:999:bob,alice\nbroken:x:zz:\n"),
);

Deno.test("UserDb resolves users by name with uid, gid and home", () => {
  assert.deepEqual(db.user("bob"), { name: "bob", uid: 1000, gid: 100, home: "/home/bob" });
  assert.equal(db.user("nosuch"), null);
});

Deno.test("UserDb resolves numeric names as ids, using the entry when one has that id", () => {
  assert.deepEqual(db.user("1000"), { name: "bob", uid: 1000, gid: 100, home: "/home/bob" });
  assert.deepEqual(db.user("4242"), { name: "4242", uid: 4242, gid: 4242, home: "/" });
  assert.deepEqual(db.group("77"), { gid: 77 });
});

Deno.test("UserDb resolves groups and lists a user's supplementary groups", () => {
  assert.deepEqual(db.group("docker"), { gid: 999 });
  assert.equal(db.group("broken"), null);
  assert.deepEqual(db.groupsOf?.("bob"), [999]);
  assert.deepEqual(db.groupsOf?.("root"), []);
});

Deno.test("userDbForJob() reads a chroot job's users from inside its chroot, as Upstart", () => {
  const root = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${root}/etc`);
    Deno.writeTextFileSync(`${root}/etc/passwd`, "app:x:4321:4321::/:/bin/sh\n");
    Deno.writeTextFileSync(`${root}/etc/group`, "appg:x:4322:app\n");
    const job = { chroot: root, setuid: "app", setgid: null };
    const inside = userDbForJob(job, () => db);
    assert.deepEqual(inside.user("app"), { name: "app", uid: 4321, gid: 4321, home: "/" });
    assert.equal(inside.user("bob"), null); // a user of the host only
    assert.deepEqual(inside.groupsOf?.("app"), [4322]);
    // Without chroot (or without setuid/setgid), the host's.
    assert.equal(userDbForJob({ ...job, chroot: null }, () => db), db);
    assert.equal(userDbForJob({ ...job, setuid: null }, () => db), db);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
