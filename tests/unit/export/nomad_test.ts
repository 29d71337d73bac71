/**
 * The Nomad mapping, field by field, in both written forms (HCL and API JSON), and the job
 * specification's own rules (restart interval at least 5 s and long enough for its attempts,
 * reschedule delay at least 5 s) for every job of the corpus.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { nomadCron, nomadJob } from "../../../lib/export/nomad.ts";
import { nomadApiJson, type NomadJob } from "../../../lib/export/nomad_render.ts";
import type { MappedUnit } from "../../../lib/export/model.ts";
import { corpusJobs, fixtureCron, fixtureJob, jobFrom } from "./helpers.ts";

const OPTS = { driver: "raw_exec" } as const;
const S = 1e9;

// deno-lint-ignore no-explicit-any
type Any = any;

function mapped(r: MappedUnit | { error: string }): MappedUnit {
  if ("error" in r) throw new Error(r.error);
  return r;
}

/** The API JSON as written (parsed back), and the HCL text. */
function forms(r: MappedUnit | { error: string }): { api: Any; hcl: string; job: NomadJob } {
  const m = mapped(r);
  const hcl = m.files.find((f) => f.path.endsWith(".nomad.hcl"))!;
  const json = m.files.find((f) => f.path.endsWith(".nomad.json"))!;
  const api = JSON.parse(json.content);
  deepEqual(api, JSON.parse(JSON.stringify(nomadApiJson(json.data as NomadJob))));
  return { api: api.Job, hcl: hcl.content, job: json.data as NomadJob };
}

Deno.test("a service job: restart, reschedule, checks with check_restart, kill, user, env", () => {
  const { api, hcl } = forms(nomadJob(fixtureJob("rich"), OPTS));
  equal(api.ID, "rich");
  equal(api.Type, "service");
  deepEqual(api.Datacenters, ["*"]);
  const g = api.TaskGroups[0];
  equal(g.Count, 1);
  deepEqual(g.RestartPolicy, { Attempts: 4, Interval: 60 * S, Delay: 2 * S, Mode: "fail" });
  deepEqual(g.ReschedulePolicy, { Unlimited: true, Delay: 600 * S, DelayFunction: "constant" });
  deepEqual(g.Networks, [{
    ReservedPorts: [{ Label: "health_8080", Value: 8080 }, { Label: "health_9090", Value: 9090 }],
  }]);
  deepEqual(g.Tasks.map((t: Any) => [t.Name, t.Lifecycle?.Hook ?? null]), [
    ["pre-start", "prestart"],
    ["rich", null],
    ["post-start", "poststart"],
    ["post-stop", "poststop"],
  ]);
  const t = g.Tasks[1];
  equal(t.Driver, "raw_exec");
  equal(t.User, "www-data");
  equal(t.KillSignal, "SIGINT");
  equal(t.KillTimeout, 20 * S);
  deepEqual(t.Resources, { MemoryMB: 512 });
  deepEqual(t.Env, { UPSTART_JOB: "rich", PORT: "8080", GREETING: "hello world" });
  equal(t.Config.command, "/bin/sh");
  deepEqual(t.Config.args, [
    "-c",
    'cd "$1" || exit 1; shift; exec "$@"',
    "upkeep-chdir",
    "/srv/app",
    "/bin/sh",
    "-e",
    "-c",
    'exec /usr/bin/app --port $PORT --name "a b"',
  ]);
  const svc = t.Services[0];
  equal(svc.Name, "rich");
  equal(svc.Provider, "consul");
  const restart = { Limit: 5, Grace: 30 * S, IgnoreWarnings: false };
  deepEqual(svc.Checks, [
    {
      Name: "http-0",
      Type: "http",
      Path: "/healthz?full=1",
      Protocol: "http",
      PortLabel: "health_8080",
      Interval: 15 * S,
      Timeout: 4 * S,
      CheckRestart: restart,
    },
    {
      Name: "tcp-0",
      Type: "tcp",
      PortLabel: "health_9090",
      Interval: 15 * S,
      Timeout: 4 * S,
      CheckRestart: restart,
    },
    {
      Name: "exec-0",
      Type: "script",
      Command: "/bin/sh",
      Args: ["-c", "/usr/bin/curl -fs http://localhost:8080/"],
      Interval: 15 * S,
      Timeout: 4 * S,
      CheckRestart: restart,
    },
  ]);
  for (
    const line of [
      'job "rich" {',
      '  type = "service"',
      "      attempts = 4",
      '      interval = "60s"',
      '      delay = "2s"',
      '      mode = "fail"',
      "      unlimited = true",
      '      delay = "600s"',
      '      port "health_8080" {',
      "        static = 8080",
      '        hook = "prestart"',
      '      user = "www-data"',
      '      kill_timeout = "20s"',
      '      kill_signal = "SIGINT"',
      "        memory = 512",
      '        GREETING = "hello world"',
      '        provider = "consul"',
      '          path = "/healthz?full=1"',
      '          port = "health_8080"',
      '          interval = "15s"',
      "          check_restart {",
      "            limit = 5",
      '            grace = "30s"',
      "            ignore_warnings = false",
      '          args = ["-c", "/usr/bin/curl -fs http://localhost:8080/"]',
    ]
  ) ok(hcl.includes(`\n${line}\n`), `HCL lacks: ${line}`);
});

Deno.test("HCL strings keep ${ and %{ literal and escape quotes and newlines", () => {
  const { hcl, api } = forms(nomadJob(fixtureJob("rich"), OPTS));
  ok(
    hcl.includes(
      '"echo \\"cost 100%\\"\\necho $${PORT:-none} $HOME \\"quote\\\\\\"d\\" back\\\\\\\\slash\\n"',
    ),
  );
  const post = api.TaskGroups[0].Tasks[3].Config.args;
  equal(post.at(-1), 'echo "cost 100%"\necho ${PORT:-none} $HOME "quote\\"d" back\\\\slash\n');
});

Deno.test("respawn settings: none, unlimited, a limit shorter than Nomad allows; tasks are batch", () => {
  const group = (text: string) =>
    forms(nomadJob(jobFrom(`start on runlevel 2\n${text}`), OPTS)).api.TaskGroups[0];
  deepEqual(group("exec /bin/d").RestartPolicy, {
    Attempts: 0,
    Interval: 1800 * S,
    Delay: 15 * S,
    Mode: "fail",
  });
  deepEqual(group("exec /bin/d").ReschedulePolicy, { Attempts: 0, Unlimited: false });
  deepEqual(group("respawn\nrespawn limit unlimited\nexec /bin/d").RestartPolicy, {
    Attempts: 10,
    Interval: 5 * S,
    Delay: 0,
    Mode: "delay",
  });
  deepEqual(group("respawn\nrespawn limit 10 2\nrespawn delay 1 8\nexec /bin/d").RestartPolicy, {
    Attempts: 10,
    Interval: 10 * S,
    Delay: 1 * S,
    Mode: "fail",
  });
  const task = forms(nomadJob(jobFrom("task\nexec /bin/t"), OPTS)).api;
  equal(task.Type, "batch");
  equal(task.TaskGroups[0].Count, 0);
  const bare = forms(nomadJob(jobFrom("exec nginx -g x"), OPTS)).api.TaskGroups[0].Tasks[0].Config;
  deepEqual(bare, { command: "/usr/bin/env", args: ["nginx", "-g", "x"] });
});

Deno.test("every corpus job follows Nomad's restart and reschedule rules", () => {
  for (const j of [...corpusJobs(), fixtureJob("rich")]) {
    const { job } = forms(nomadJob(j, OPTS));
    const r = job.group.restart;
    const where = j.job.file;
    ok(r.interval >= 5, `${where}: interval ${r.interval}`);
    ok(r.attempts * r.delay <= r.interval, `${where}: ${r.attempts} × ${r.delay} > ${r.interval}`);
    ok(r.attempts > 0 || r.mode === "fail", `${where}: mode ${r.mode} with 0 attempts`);
    if (job.group.reschedule.unlimited) ok(job.group.reschedule.delay >= 5, where);
    ok(job.group.tasks.every((t) => t.command.startsWith("/")), `${where}: relative command`);
    ok(
      job.group.tasks.every((t) => t.env.every(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))),
      where,
    );
  }
});

Deno.test("an upkeep run cron line becomes a periodic batch job", () => {
  const [backup, warm] = fixtureCron();
  const { api, hcl } = forms(nomadCron(backup!, OPTS));
  equal(api.Type, "batch");
  deepEqual(api.Periodic, {
    Enabled: true,
    Spec: "15 2 * * *",
    SpecType: "cron",
    ProhibitOverlap: true,
  });
  const g = api.TaskGroups[0];
  deepEqual(g.RestartPolicy, { Attempts: 2, Interval: 86400 * S, Delay: 300 * S, Mode: "fail" });
  deepEqual(g.Tasks.map((t: Any) => t.Name), ["pre-start", "backup", "post-stop"]);
  deepEqual(g.Tasks[1].Config, {
    command: "/usr/bin/env",
    args: [
      "timeout",
      "--signal=TERM",
      "--kill-after=5s",
      "3600s",
      "/bin/sh",
      "-e",
      "-c",
      'pg_dumpall > "$TARGET/all.sql"\n',
    ],
  });
  equal(g.Tasks[1].User, "backup");
  equal(g.Tasks[1].Env.PATH, "/usr/local/bin:/usr/bin:/bin");
  ok(hcl.includes('    cron = "15 2 * * *"\n    prohibit_overlap = true\n'));
  const w = forms(nomadCron(warm!, OPTS)).api;
  equal(w.ID, "cache-warm");
  equal(w.Periodic.Spec, "*/5 9-17 * * mon-fri");
});
