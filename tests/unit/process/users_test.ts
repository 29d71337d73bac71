/** Unit tests of the /etc/passwd and /etc/group parsers and the UserDb built from them. */

import assert from "node:assert/strict";
import { parseGroup, parsePasswd, userDbFrom } from "../../../lib/process/users.ts";

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
