/** findConfFiles(): which files under a conf dir are job files, as Upstart decides it. */

import { deepEqual, equal } from "node:assert/strict";
import { findConfFiles, ignoredDir, loadJobFile } from "../../../lib/job/load.ts";

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

Deno.test("findConfFiles() takes links to files, dangling ones too, and searches no linked directory", () => {
  const dir = Deno.makeTempDirSync();
  const other = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/a.conf`, "exec sleep 1\n");
    Deno.writeTextFileSync(`${other}/x.conf`, "exec true\n");
    Deno.mkdirSync(`${dir}/real`);
    Deno.writeTextFileSync(`${dir}/real/y.conf`, "exec true\n");
    Deno.symlinkSync(`${dir}/a.conf`, `${dir}/b.conf`);
    Deno.symlinkSync(other, `${dir}/linked`);
    Deno.symlinkSync(`${dir}/real`, `${dir}/also-real`);
    Deno.symlinkSync(`${dir}/nowhere.conf`, `${dir}/dangling.conf`);
    Deno.symlinkSync(`${dir}/nowhere`, `${dir}/dangling-other`);
    deepEqual(findConfFiles(dir, []).sort(), ["a.conf", "b.conf", "dangling.conf", "real/y.conf"]);
    const r = loadJobFile(`${dir}/dangling.conf`);
    equal(r.job, null);
    deepEqual(r.diagnostics.map((d) => [d.line, d.message, d.severity]), [
      [0, "No such file or directory", "error"],
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(other, { recursive: true });
  }
});

Deno.test("loadJobFile() refuses /proc and /sys files and files over 1 MiB without reading them whole", () => {
  const dir = Deno.makeTempDirSync();
  try {
    // /proc files say they are regular and empty; pagemap is endless, kmsg blocks for ever.
    Deno.symlinkSync("/proc/self/pagemap", `${dir}/pagemap.conf`);
    Deno.symlinkSync("/sys/kernel/uevent_seqnum", `${dir}/sys.conf`);
    for (const name of ["pagemap", "sys"]) {
      const r = loadJobFile(`${dir}/${name}.conf`);
      equal(r.job, null);
      deepEqual(r.diagnostics.map((d) => d.message), ["in /proc or /sys, not a job file: skipped"]);
    }
    Deno.writeTextFileSync(`${dir}/big.conf`, "#".repeat(1024 * 1024) + "\n");
    const big = loadJobFile(`${dir}/big.conf`);
    equal(big.job, null);
    deepEqual(big.diagnostics.map((d) => d.message), [
      "file too large (1048577 bytes; job files may be at most 1 MiB)",
    ]);
    Deno.writeTextFileSync(`${dir}/fits.conf`, "#".repeat(1024 * 1024 - 20) + "\nexec true\n");
    deepEqual(loadJobFile(`${dir}/fits.conf`).job?.main, { exec: "true" });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
