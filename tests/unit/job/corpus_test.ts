/** The 39 real Upstart job files (../shared/upstart-jobs), the seed file and the examples all parse. */

import { deepEqual, equal, ok } from "node:assert/strict";
import { parseJob } from "../../../lib/job/parse.ts";
import { formatEventExpr } from "../../../lib/events/print.ts";

const CORPUS = new URL("../../../../shared/upstart-jobs/", import.meta.url).pathname;
const EXAMPLES = new URL("../../../examples/init/", import.meta.url).pathname;
const haveCorpus = (() => {
  try {
    return Deno.statSync(CORPUS).isDirectory;
  } catch {
    return false;
  }
})();

function confs(dir: string): string[] {
  return [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".conf")).map((e) => e.name)
    .sort();
}

function parseFile(dir: string, name: string) {
  return parseJob(Deno.readTextFileSync(dir + name), { name: name.slice(0, -5), file: dir + name });
}

Deno.test({
  name: "every real job file in the corpus parses without diagnostics",
  ignore: !haveCorpus,
  fn() {
    const names = confs(CORPUS);
    ok(names.length >= 39);
    for (const n of names) {
      const r = parseFile(CORPUS, n);
      deepEqual(r.diagnostics, [], n);
      ok(r.job, n);
    }
  },
});

const NORMAL_FORMS: [string, string | null, string | null][] = [
  [
    "ubuntu-upstart-tty1.conf",
    "(stopped rc RUNLEVEL=[2345] and ((not-container or container CONTAINER=lxc) or container CONTAINER=lxc-libvirt))",
    "runlevel [!2345]",
  ],
  [
    "raspbmc-udev-finish.conf",
    "((((startup and started mountall) and started udev) and stopped udevtrigger) and stopped udevmonitor)",
    null,
  ],
  ["ubuntu-upstart-rc.conf", "runlevel [0123456]", "runlevel [!$RUNLEVEL]"],
  ["ubuntu-upstart-wait-for-state.conf", null, "(started $WAIT_FOR or stopped $WAIT_FOR)"],
  ["gunicorn-cssmatic.conf", null, null],
  ["mongodb.conf", "runlevel [2345]", "runlevel [06]"],
  ["elasticsearch.conf", "(filesystem and net-device-up IFACE!=lo)", "shutdown"],
];

for (const [file, start, stop] of NORMAL_FORMS) {
  Deno.test({
    name: `corpus ${file} normalises start on/stop on as initctl show-config`,
    ignore: !haveCorpus,
    fn() {
      const j = parseFile(CORPUS, file).job!;
      equal(j.startOn && formatEventExpr(j.startOn), start);
      equal(j.stopOn && formatEventExpr(j.stopOn), stop);
    },
  });
}

Deno.test({
  name: "corpus details: trailing comment after env, pre-start before start on, scripts",
  ignore: !haveCorpus,
  fn() {
    const g = parseFile(CORPUS, "gunicorn-elastic-nginx.conf").job!;
    ok(Object.keys(g.env).length > 0);
    for (const v of Object.values(g.env)) ok(!v.includes("#"));
    const m = parseFile(CORPUS, "mongodb.conf").job!;
    ok(m.preStart);
    ok(m.startOn);
  },
});

Deno.test("the seed's job file parses with its values", () => {
  const r = parseJob(
    "# Start when system enters runlevel 2 (multi-user mode).\nstart on runlevel 2\n" +
      "exec /usr/bin/env RAILS_ENV=production /path/to/app/script/delayed_job start\n" +
      "respawn\nrespawn limit 10 90\n",
    { name: "delayed_job", file: "delayed_job.conf" },
  );
  deepEqual(r.diagnostics, []);
  const j = r.job!;
  deepEqual(j.startOn, {
    type: "event",
    name: "runlevel",
    args: [{ kind: "positional", value: "2" }],
  });
  deepEqual(j.main, {
    exec: "/usr/bin/env RAILS_ENV=production /path/to/app/script/delayed_job start",
  });
  equal(j.respawn, true);
  deepEqual(j.respawnLimit, { count: 10, interval: 90 });
  deepEqual(j.normalExit, []);
  equal(j.console, "log");
});

Deno.test("every example job file parses without diagnostics", () => {
  const names = confs(EXAMPLES);
  ok(names.length >= 4);
  for (const n of names) deepEqual(parseFile(EXAMPLES, n).diagnostics, [], n);
});
