/** findConfFiles(): which files under a conf dir are job files, as Upstart decides it. */

import { deepEqual, equal } from "node:assert/strict";
import { findConfFiles, ignoredDir } from "../../../lib/job/load.ts";

Deno.test("ignoredDir() follows libnih's nih_file_ignore", () => {
  for (const n of [".git", ".hidden", "old~", "x.bak", "X.BAK", "#x#", "a.swp", ".#a", "RCS"]) {
    equal(ignoredDir(n), true, n);
  }
  for (const n of ["CVS", "SCCS", "_darcs", "a,v", "x.dpkg-old", "x.rpmnew", "x;0123abcd"]) {
    equal(ignoredDir(n), true, n);
  }
  for (const n of ["net", "a.b", "x.dpkg", "x.rpmnew2", "x;0123abc", "bak"]) {
    equal(ignoredDir(n), false, n);
  }
});

Deno.test("findConfFiles() skips `.conf` alone and directories Upstart ignores", () => {
  const dir = Deno.makeTempDirSync();
  try {
    for (const d of ["sub", ".git", "old~", "x.dpkg-new", "d.conf"]) Deno.mkdirSync(`${dir}/${d}`);
    for (const f of ["a.conf", ".conf", ".h.conf", "sub/b.conf", "sub/.conf", ".git/c.conf"]) {
      Deno.writeTextFileSync(`${dir}/${f}`, "");
    }
    for (const f of ["old~/d.conf", "x.dpkg-new/e.conf", "d.conf/f.conf", "g.conf~"]) {
      Deno.writeTextFileSync(`${dir}/${f}`, "");
    }
    deepEqual(findConfFiles(dir, []).sort(), [".h.conf", "a.conf", "d.conf/f.conf", "sub/b.conf"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
