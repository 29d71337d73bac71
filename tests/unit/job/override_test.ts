/** `.override` files: applied on top of the .conf as if appended; broken ones are ignored. */

import { deepEqual, equal, ok } from "node:assert/strict";
import { parseJob } from "../../../lib/job/parse.ts";
import { loadConfDirs, loadJobFile } from "../../../lib/job/load.ts";
import { formatEventExpr } from "../../../lib/events/print.ts";

const CONF = "start on runlevel [2345]\nenv A=1\nexec /bin/a\nrespawn\nnormal exit 1\n";

function withOverride(override: string) {
  const base = parseJob(CONF, { name: "j", file: "j.conf" }).job!;
  return parseJob(override, { name: "j", file: "j.override", base });
}

Deno.test("an override's manual discards the .conf's start on", () => {
  const r = withOverride("manual\n");
  equal(r.job?.startOn, null);
  equal(r.job?.manual, true);
  deepEqual(r.job?.main, { exec: "/bin/a" });
});

Deno.test("override stanzas replace scalars and extend lists", () => {
  const r = withOverride("exec /bin/b\nenv B=2\nenv A=3\nnormal exit 2\nstart on startup\n");
  const j = r.job!;
  deepEqual(j.main, { exec: "/bin/b" });
  deepEqual(j.env, { A: "3", B: "2" });
  deepEqual(j.normalExit, [1, 2]);
  equal(formatEventExpr(j.startOn!), "startup");
  equal(j.file, "j.conf");
  equal(j.respawn, true);
});

Deno.test("diagnostics of an override name the override file", () => {
  const r = withOverride("bogus\n");
  equal(r.job, null);
  deepEqual(r.diagnostics.map((d) => [d.file, d.line, d.message]), [[
    "j.override",
    1,
    "Unknown stanza",
  ]]);
});

Deno.test("loadConfDirs applies overrides, ignores broken ones and orphans, first dir wins", () => {
  const a = Deno.makeTempDirSync(), b = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${a}/net`);
    Deno.writeTextFileSync(`${a}/web.conf`, CONF);
    Deno.writeTextFileSync(`${a}/web.override`, "manual\n");
    Deno.writeTextFileSync(`${a}/net/db.conf`, CONF);
    Deno.writeTextFileSync(`${a}/net/db.override`, "nice 99\n");
    Deno.writeTextFileSync(`${a}/orphan.override`, "manual\n");
    Deno.writeTextFileSync(`${a}/broken.conf`, "exec\n");
    Deno.writeTextFileSync(`${b}/web.conf`, "exec /from/b\n");
    Deno.writeTextFileSync(`${b}/broken.conf`, "exec /fixed\n");
    Deno.writeTextFileSync(`${b}/other.conf`, "task\n");
    const r = loadConfDirs([a, b, `${a}/missing`]);
    deepEqual([...r.jobs.keys()].sort(), ["broken", "net/db", "other", "web"]);
    equal(r.jobs.get("web")?.startOn, null);
    deepEqual(r.jobs.get("web")?.main, { exec: "/bin/a" });
    ok(r.jobs.get("net/db")?.startOn, "broken override: nothing before its error");
    equal(r.jobs.get("net/db")?.nice, null);
    deepEqual(r.jobs.get("broken")?.main, { exec: "/fixed" });
    const msgs = r.diagnostics.map((d) =>
      `${d.file.replace(a, "A").replace(b, "B")}:${d.line}:${d.severity}:${d.message}`
    );
    deepEqual(msgs, [
      "A/broken.conf:1:error:Expected token",
      "A/net/db.override:1:warning:Illegal nice value, expected -20 to 19",
      "A/missing:0:error:No such file or directory",
    ]);
    ok(r.files.includes(`${a}/web.override`));
    ok(r.files.includes(`${a}/net/db.conf`));
    ok(!r.files.includes(`${b}/web.conf`));
  } finally {
    Deno.removeSync(a, { recursive: true });
    Deno.removeSync(b, { recursive: true });
  }
});

Deno.test("a broken override applies up to its first error and drops what failed (Upstart)", () => {
  const partial = (text: string) => withOverride(text).partial!;
  // Stanzas before the error apply; those after it are not read.
  const a = partial("usage over\nfrobnicate\nstart on bar\n");
  equal(a.usage, "over");
  equal(formatEventExpr(a.startOn!), "runlevel [2345]");
  // The failing stanza's old value is gone.
  equal(partial("usage over\nstart on (bar\n").startOn, null);
  equal(partial('usage x\nusage "y\n').usage, null);
  // A value set before trailing junk stays, as in Upstart.
  equal(partial("description a b\n").description, "a");
  // Not an override: no partial job.
  equal(parseJob("frobnicate\n", { name: "j", file: "j.conf" }).partial, undefined);
});

Deno.test("loadJobFile reads the file and the override beside it", () => {
  const d = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${d}/x.conf`, CONF);
    Deno.writeTextFileSync(`${d}/x.override`, "task\n");
    const r = loadJobFile(`${d}/x.conf`);
    equal(r.job?.name, "x");
    equal(r.job?.task, true);
    equal(loadJobFile(`${d}/x.conf`, "custom").job?.name, "custom");
    deepEqual(loadJobFile(`${d}/nope.conf`).diagnostics.map((x) => x.message), [
      "No such file or directory",
    ]);
  } finally {
    Deno.removeSync(d, { recursive: true });
  }
});
