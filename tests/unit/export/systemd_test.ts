/** The systemd mapping, stanza by stanza: unit entries, quoting, notes with their lines. */

import { deepEqual, equal, ok } from "node:assert/strict";
import { systemdCron, systemdJob } from "../../../lib/export/systemd.ts";
import { execLine, execWord } from "../../../lib/export/systemd_unit.ts";
import type { MappedUnit } from "../../../lib/export/model.ts";
import { fixtureCron, fixtureJob, jobFrom } from "./helpers.ts";

const OPTS = { tasks: new Set<string>(), version: 254 };

/** `KEY=VALUE` lines of a unit's file, in order (comments and sections dropped). */
function entries(u: MappedUnit, file = 0): [string, string][] {
  return u.files[file]!.content.split("\n")
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]);
}

function values(u: MappedUnit, key: string, file = 0): string[] {
  return entries(u, file).filter(([k]) => k === key).map(([, v]) => v);
}

Deno.test("execWord() quotes for systemd: %, $, quotes, backslashes, newlines, a lone ;", () => {
  equal(execWord("/usr/bin/app"), "/usr/bin/app");
  equal(execWord("a b"), '"a b"');
  equal(execWord("$PORT"), '"$$PORT"');
  equal(execWord("100%"), '"100%%"');
  equal(execWord('say "hi"\\n'), '"say \\"hi\\"\\\\n"');
  equal(execWord("l1\nl2\tx"), '"l1\\nl2\\tx"');
  equal(execWord(";"), "\\;");
  equal(execWord(""), '""');
  equal(execLine(["-odd", "x"]), "./-odd x");
});

Deno.test("systemdJob() maps the rich fixture stanza by stanza", () => {
  const u = systemdJob(fixtureJob("rich"), OPTS);
  equal(u.files.length, 1);
  equal(u.files[0]!.path, "rich.service");
  const one = (k: string) => {
    const v = values(u, k);
    equal(v.length, 1, `${k}: ${JSON.stringify(v)}`);
    return v[0];
  };
  equal(one("Description"), "Rich job for export tests");
  equal(one("Type"), "simple");
  equal(one("Restart"), "always");
  equal(one("StartLimitIntervalSec"), "60s");
  equal(one("StartLimitBurst"), "5");
  equal(one("RestartSec"), "2s");
  equal(one("RestartSteps"), "4");
  equal(one("RestartMaxDelaySec"), "32s");
  equal(one("RestartPreventExitStatus"), "0 3 SIGTERM");
  equal(one("SuccessExitStatus"), "0 3 SIGTERM");
  equal(one("KillSignal"), "SIGINT");
  equal(one("TimeoutStopSec"), "20s");
  equal(one("KillMode"), "control-group");
  equal(one("User"), "www-data");
  equal(one("Group"), "www-data");
  equal(one("UMask"), "0027");
  equal(one("Nice"), "5");
  equal(one("OOMScoreAdjust"), "100");
  equal(one("LimitNOFILE"), "1024:4096");
  equal(one("LimitCORE"), "infinity:infinity");
  equal(one("WorkingDirectory"), "/srv/app");
  equal(one("MemoryMax"), String(512 * 1024 * 1024));
  deepEqual(values(u, "Environment"), [
    "UPSTART_JOB=rich",
    "PORT=8080",
    '"GREETING=hello world"',
  ]);
  equal(one("ExecStartPre"), "/usr/bin/mkdir -p /srv/app/tmp");
  equal(one("ExecStart"), '/bin/sh -e -c "exec /usr/bin/app --port $$PORT --name \\"a b\\""');
  equal(one("ExecStartPost"), '/bin/sh -e -c "exec /usr/bin/logger \\"rich started\\""');
  equal(one("ExecStop"), "/usr/bin/logger rich stopping");
  equal(
    one("ExecStopPost"),
    '/bin/sh -e -c "echo \\"cost 100%%\\"\\necho $${PORT:-none} $$HOME \\"quote\\\\\\"d\\" back\\\\\\\\slash\\n"',
  );
  equal(one("ExecReload"), "/bin/kill -s HUP $MAINPID");
  equal(one("After"), "db.service");
  equal(one("PartOf"), "db.service");
  equal(one("WantedBy"), "multi-user.target db.service");
});

Deno.test("systemdJob() reports what systemd cannot do, each at its stanza's line", () => {
  const u = systemdJob(fixtureJob("rich"), OPTS);
  const warnings = u.notes.filter((n) => n.severity === "warning").map((n) =>
    `${n.line} ${n.stanza}`
  );
  deepEqual(warnings, [
    "22 respawn retry",
    "23 health http",
    "24 health tcp",
    "25 health exec",
  ]);
  ok(
    u.files[0]!.content.includes(
      "#   warning: health exec (line 25): systemd has no health checks",
    ),
  );
});

Deno.test("systemdJob(): task, expect fork/daemon, no main process, template, manual", () => {
  const type = (text: string) => values(systemdJob(jobFrom(text), OPTS), "Type");
  deepEqual(type("task\nexec /bin/true"), ["oneshot"]);
  deepEqual(type("expect fork\nexec /usr/sbin/sshd"), ["forking"]);
  deepEqual(type("expect daemon\nexec /usr/sbin/d"), ["forking"]);
  deepEqual(type("pre-start exec /bin/true"), ["oneshot"]);
  const noMain = systemdJob(jobFrom("pre-start exec /bin/mkdir /run/x"), OPTS);
  deepEqual(values(noMain, "RemainAfterExit"), ["yes"]);
  deepEqual(values(noMain, "ExecStart"), ["/bin/true"]);

  const t = systemdJob(
    jobFrom("instance $N\nstart on runlevel 2\nexec /bin/w $N", "/x/worker.conf"),
    OPTS,
  );
  equal(t.files[0]!.path, "worker@.service");
  deepEqual(values(t, "Environment"), ["UPSTART_JOB=worker", "UPSTART_INSTANCE=%i", "N=%i"]);

  const manual = systemdJob(jobFrom("exec /bin/sleep 1"), OPTS);
  deepEqual(values(manual, "WantedBy"), []);
  ok(!manual.files[0]!.content.includes("\n[Install]\n"));
});

Deno.test("systemdJob(): respawn limit unlimited, respawn on a task, normal exit without respawn", () => {
  const u = systemdJob(jobFrom("respawn\nrespawn limit unlimited\nexec /bin/d"), OPTS);
  deepEqual(values(u, "StartLimitIntervalSec"), ["0"]);
  deepEqual(values(u, "StartLimitBurst"), []);
  const task = systemdJob(jobFrom("task\nrespawn\nexec /bin/t"), OPTS);
  deepEqual(values(task, "Restart"), ["on-failure"]);
  const plain = systemdJob(jobFrom("normal exit 2\nexec /bin/t"), OPTS);
  deepEqual(values(plain, "Restart"), []);
  deepEqual(values(plain, "SuccessExitStatus"), ["2"]);
});

Deno.test("systemdJob(): RestartSteps only from systemd 254; below, a warning", () => {
  const text = "respawn\nrespawn delay 1 60\nexec /bin/d";
  const old = systemdJob(jobFrom(text), { ...OPTS, version: 252 });
  deepEqual(values(old, "RestartSteps"), []);
  deepEqual(values(old, "RestartSec"), ["1s"]);
  ok(
    old.notes.some((n) => n.severity === "warning" && n.stanza === "respawn delay" && n.line === 2),
  );
  deepEqual(values(systemdJob(jobFrom(text), OPTS), "RestartSteps"), ["6"]);
});

Deno.test("systemd start on / stop on shapes become dependencies", () => {
  const deps = (start: string, stop = "") => {
    const u = systemdJob(
      jobFrom(`start on ${start}\n${stop ? `stop on ${stop}\n` : ""}exec /bin/d`),
      OPTS,
    );
    return Object.fromEntries(
      [
        "Wants",
        "After",
        "Before",
        "PartOf",
        "Conflicts",
        "RequiresMountsFor",
        "WantedBy",
        "DefaultDependencies",
      ]
        .map((k) => [k, values(u, k).join(" | ")])
        .filter(([, v]) => v),
    );
  };
  deepEqual(deps("runlevel [2345]", "runlevel [!2345]"), { WantedBy: "multi-user.target" });
  deepEqual(deps("runlevel 5"), { WantedBy: "graphical.target" });
  deepEqual(deps("runlevel S"), { WantedBy: "rescue.target" });
  deepEqual(deps("started web"), { After: "web.service", WantedBy: "web.service" });
  deepEqual(deps("starting web"), { Before: "web.service", WantedBy: "web.service" });
  deepEqual(deps("filesystem"), {
    After: "local-fs.target remote-fs.target",
    WantedBy: "multi-user.target",
  });
  deepEqual(deps("net-device-up IFACE!=lo"), {
    Wants: "network-online.target",
    After: "network-online.target",
    WantedBy: "multi-user.target",
  });
  deepEqual(deps("mounted MOUNTPOINT=/srv"), {
    RequiresMountsFor: "/srv",
    WantedBy: "multi-user.target",
  });
  deepEqual(deps("startup"), {
    DefaultDependencies: "no",
    Conflicts: "shutdown.target",
    Before: "sysinit.target shutdown.target",
    WantedBy: "sysinit.target",
  });
  deepEqual(deps("runlevel [2345]", "stopping db"), {
    PartOf: "db.service",
    WantedBy: "multi-user.target",
  });
  deepEqual(deps("runlevel [2345]", "started maintenance"), {
    Conflicts: "maintenance.service",
    WantedBy: "multi-user.target",
  });
});

Deno.test("systemd: an event no target knows is a warning at the start on line", () => {
  const u = systemdJob(jobFrom("# c\nstart on deploy-done or runlevel 2\nexec /bin/d"), OPTS);
  const w = u.notes.filter((n) => n.severity === "warning");
  equal(w.length, 1);
  equal(w[0]!.line, 2);
  equal(w[0]!.stanza, "start on");
  ok(w[0]!.message.includes("'deploy-done'"));
  deepEqual(values(u, "WantedBy"), ["multi-user.target"]);
});

Deno.test("systemdCron(): a timer and a oneshot service from an upkeep run line with a job file", () => {
  const [backup] = fixtureCron();
  const u = systemdCron(backup!, OPTS);
  deepEqual(u.files.map((f) => f.path), ["backup.service", "backup.timer"]);
  deepEqual(values(u, "OnCalendar", 1), ["*-*-* 2:15:00"]);
  deepEqual(values(u, "WantedBy", 1), ["timers.target"]);
  const one = (k: string) => values(u, k).join(" | ");
  equal(one("Type"), "oneshot");
  equal(one("TimeoutStartSec"), "3600s");
  equal(one("User"), "backup");
  equal(one("ExecStartPre"), "/usr/bin/mkdir -p /var/backups");
  equal(one("ExecStart"), '/bin/sh -e -c "pg_dumpall > \\"$$TARGET/all.sql\\"\\n"');
  equal(one("ExecStopPost"), "/usr/bin/logger backup done");
  equal(one("Restart"), "on-failure");
  equal(one("RestartSec"), "300s");
  equal(one("StartLimitBurst"), "3");
  equal(one("StartLimitIntervalSec"), `${300 + 600 + 3 * 3600 + 1}s`);
  equal(
    one("Environment"),
    "UPSTART_JOB=backup | TARGET=/var/backups | PATH=/usr/local/bin:/usr/bin:/bin",
  );
});

Deno.test("systemdCron(): the COMMAND form, weekday ranges, both day fields, @hourly", () => {
  const runs = fixtureCron();
  const warm = systemdCron(runs[1]!, OPTS);
  deepEqual(values(warm, "OnCalendar", 1), [
    "Mon..Fri *-*-* 9..17:0,5,10,15,20,25,30,35,40,45,50,55:00",
  ]);
  deepEqual(values(warm, "ExecStart"), ["/usr/local/bin/warm-cache --all"]);
  deepEqual(values(warm, "WorkingDirectory"), ["~"]);
  deepEqual(values(warm, "User"), ["app"]);
  const twice = systemdCron(runs[2]!, OPTS);
  deepEqual(values(twice, "OnCalendar", 1), ["*-*-1,15 0:0:00", "Mon *-*-* 0:0:00"]);
  deepEqual(values(twice, "KillSignal"), ["SIGINT"]);
  deepEqual(values(twice, "TimeoutStopSec"), ["30s"]);
  deepEqual(values(twice, "ExecStart"), ['/usr/bin/report "monthly report"']);
  deepEqual(values(twice, "TimeoutStartSec"), ["infinity"]);
  const hourly = systemdCron(runs[3]!, OPTS);
  deepEqual(values(hourly, "OnCalendar", 1), ["*-*-* *:0:00"]);
});
