/** exportAll(): a job file that a cron line runs is exported once; clashing files are an error. */

import { deepEqual, equal, ok } from "node:assert/strict";
import { exportAll } from "../../../lib/export/export.ts";
import { fixtureCron, fixtureJob, jobFrom } from "./helpers.ts";

Deno.test("a job file run by a crontab line is exported once, as the cron run", () => {
  const r = exportAll({
    jobs: [fixtureJob("backup"), fixtureJob("rich")],
    cron: [fixtureCron()[0]!],
  }, {
    target: "systemd",
  });
  deepEqual(r.errors, []);
  deepEqual(r.files.map((f) => f.path), ["backup.service", "backup.timer", "rich.service"]);
  ok(r.files[0]!.content.includes("Type=oneshot"));
  ok(
    r.notes.some((n) =>
      n.job === "backup" && n.severity === "info" && n.message.includes("cron run")
    ),
  );
});

Deno.test("two inputs that would write the same file are an error; files come sorted", () => {
  const a = jobFrom("exec /bin/a", "/etc/init/net/web.conf");
  const b = jobFrom("exec /bin/b", "/srv/init/web.conf");
  const clash = exportAll({
    jobs: [{ ...a, job: { ...a.job, name: "net/web" } }, {
      ...b,
      job: { ...b.job, name: "net-web" },
    }],
    cron: [],
  }, { target: "nomad" });
  equal(clash.errors.length, 2); // the .hcl and the .json
  ok(clash.errors[0]!.message.includes("'net-web.nomad."));
  const ok2 = exportAll({
    jobs: [jobFrom("exec /bin/z", "/x/zz.conf"), jobFrom("exec /bin/a", "/x/aa.conf")],
    cron: [],
  }, { target: "systemd" });
  deepEqual(ok2.files.map((f) => f.path), ["aa.service", "zz.service"]);
});
