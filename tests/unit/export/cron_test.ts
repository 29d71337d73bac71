/** Cron schedules and crontab lines: parsing, cron's day rule, and the systemd calendar form. */

import { deepEqual, equal, ok } from "node:assert/strict";
import { cronMatches, onCalendar, parseCronSchedule } from "../../../lib/export/cron.ts";
import { parseCrontab } from "../../../lib/export/crontab.ts";

function fields(text: string) {
  const s = parseCronSchedule(text.split(" "));
  if ("error" in s || s.kind !== "fields") throw new Error(`not a schedule: ${text}`);
  return s;
}

Deno.test("parseCronSchedule() expands lists, ranges, steps and names", () => {
  const s = fields("*/15 9-17/4 1,15 jan-mar mon-fri");
  deepEqual(s.fields[0].values, [0, 15, 30, 45]);
  deepEqual(s.fields[1].values, [9, 13, 17]);
  deepEqual(s.fields[2].values, [1, 15]);
  deepEqual(s.fields[3].values, [1, 2, 3]);
  deepEqual(s.fields[4].values, [1, 2, 3, 4, 5]);
  deepEqual(fields("0 0 * * 7").fields[4].values, [0]);
  deepEqual(fields("0 0 * * 5-7").fields[4].values, [0, 5, 6]);
  equal(fields("@weekly".split(" ").join(" ")).text, "0 0 * * 0");
  equal(fields("@daily").written, "@daily");
  deepEqual(parseCronSchedule(["@reboot"]), {
    kind: "reboot",
    text: "@reboot",
    written: "@reboot",
  });
});

Deno.test("parseCronSchedule() rejects what cron rejects", () => {
  for (
    const bad of [
      "60 * * * *",
      "* 24 * * *",
      "* * 0 * *",
      "* * * 13 *",
      "* * * * 8",
      "5-1 * * * *",
      "*/0 * * * *",
      "5/10 * * * *",
      "* * * * funday",
      "* * * *",
      "@sometimes",
    ]
  ) {
    const s = parseCronSchedule(bad.split(" "));
    ok("error" in s, bad);
  }
});

Deno.test("onCalendar() writes systemd calendar events", () => {
  deepEqual(onCalendar(fields("15 2 * * *")), ["*-*-* 2:15:00"]);
  deepEqual(onCalendar(fields("*/5 * * * *")), ["*-*-* *:0,5,10,15,20,25,30,35,40,45,50,55:00"]);
  deepEqual(onCalendar(fields("0 */2 */3 */4 *")), [
    "*-1,5,9-1,4,7,10,13,16,19,22,25,28,31 0,2,4,6,8,10,12,14,16,18,20,22:0:00",
  ]);
  deepEqual(onCalendar(fields("0 9 * * 1-5")), ["Mon..Fri *-*-* 9:0:00"]);
  deepEqual(onCalendar(fields("0 9 * * 6,0")), ["Sat,Sun *-*-* 9:0:00"]);
  deepEqual(onCalendar(fields("0 9 * * 5-7")), ["Fri..Sun *-*-* 9:0:00"]);
  deepEqual(onCalendar(fields("10-40/10 1 * * *")), ["*-*-* 1:10,20,30,40:00"]);
  deepEqual(onCalendar(fields("0 0 1 * mon")), ["*-*-1 0:0:00", "Mon *-*-* 0:0:00"]);
  deepEqual(onCalendar(fields("0 0 */2 * mon")), [
    "Mon *-*-1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31 0:0:00",
  ]);
  deepEqual(onCalendar(fields("0 0 * * *"), "Europe/Berlin"), ["*-*-* 0:0:00 Europe/Berlin"]);
});

Deno.test("cronMatches() follows cron's rule for the two day fields", () => {
  const at = (iso: string) => new Date(iso);
  const either = fields("0 0 13 * 5"); // the 13th, and every Friday
  ok(cronMatches(either, at("2026-02-13T00:00:00Z"))); // a Friday the 13th
  ok(cronMatches(either, at("2026-03-13T00:00:00Z"))); // the 13th, a Friday too
  ok(cronMatches(either, at("2026-04-13T00:00:00Z"))); // the 13th, a Monday
  ok(cronMatches(either, at("2026-04-17T00:00:00Z"))); // a Friday
  ok(!cronMatches(either, at("2026-04-16T00:00:00Z")));
  const both = fields("0 0 */2 * 5"); // odd days AND Fridays (the dom field starts with *)
  ok(cronMatches(both, at("2026-04-17T00:00:00Z")));
  ok(!cronMatches(both, at("2026-04-10T00:00:00Z")));
  ok(!cronMatches(both, at("2026-04-15T00:00:00Z")));
});

Deno.test("parseCrontab() finds upkeep run lines, with env, user field and redirections", () => {
  const text = [
    "# comment",
    "SHELL=/bin/sh",
    'GREETING="hello there"',
    "15 2 * * * root /usr/local/sbin/upkeep run --timeout 1h /etc/init/backup.conf",
    "*/5 * * * * upkeep run --name warm -- /usr/bin/warm >/dev/null 2>&1",
    "0 * * * * LANG=C upkeep run -- /usr/bin/x",
    "0 3 * * * /usr/bin/certbot renew",
    "0 4 * * * upkeep run -- /usr/bin/dump | gzip",
    "0 5 * * * upkeep run -- /usr/bin/printf 'a%%b'",
    "0 6 * * * upkeep run --bogus x.conf",
    "61 * * * * upkeep run x.conf",
    "@reboot upkeep run -- /usr/bin/once",
  ].join("\n");
  const r = parseCrontab(text, "/etc/cron.d/jobs");
  deepEqual(r.lines.map((l) => [l.line, l.user, l.options.jobFile, [...l.options.command]]), [
    [4, "root", "/etc/init/backup.conf", []],
    [5, null, null, ["/usr/bin/warm"]],
    [6, null, null, ["/usr/bin/x"]],
    [12, null, null, ["/usr/bin/once"]],
  ]);
  equal(r.lines[0]!.options.timeout, 3600);
  deepEqual(r.lines[0]!.env, { SHELL: "/bin/sh", GREETING: "hello there" });
  deepEqual(r.lines[1]!.redirections, [">/dev/null", "2>&1"]);
  equal(r.lines[2]!.env.LANG, "C");
  equal(r.lines[3]!.schedule.kind, "reboot");
  deepEqual(r.skipped.map((s) => [s.line, s.reason.slice(0, 12)]), [
    [7, "not an 'upke"],
    [8, "a shell comm"],
    [9, "cron's '%' ("],
  ]);
  deepEqual(r.errors.map((e) => [e.line, e.message]), [
    [10, "upkeep run: Unknown option '--bogus'"],
    [11, "Bad minute '61'"],
  ]);
});
