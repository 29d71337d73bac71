/**
 * Export to systemd: one `NAME.service` per job (`NAME@.service`, a template, for an `instance`
 * job), and for each `upkeep run` cron line a `NAME.timer` with a oneshot `NAME.service`. Every
 * stanza that systemd cannot express is reported through `Notes`. Pure: no Deno APIs.
 */

import type { JobClass, LimitResource, LimitValue } from "../job/model.ts";
import { formatEventExpr } from "../events/print.ts";
import {
  durationText,
  instanceVariable,
  normalExitWords,
  processArgv,
  sigName,
  unitName,
} from "./command.ts";
import { analyzeCondition } from "./events.ts";
import { onCalendar } from "./cron.ts";
import type { CronRun, JobSource, MappedUnit } from "./model.ts";
import { nthOfType } from "./model.ts";
import { type Notes, notesFor } from "./model.ts";
import {
  dependencies,
  type Entry,
  environmentValue,
  execLine,
  renderUnit,
  textValue,
} from "./systemd_unit.ts";
import { commonNotes, cronOptionNotes, noteComments, respawnDelaySteps } from "./shared_notes.ts";

export interface SystemdOptions {
  /** Jobs of this export that are tasks (for `start on stopped X`). */
  readonly tasks: ReadonlySet<string>;
  /** The systemd version the units are for: `RestartSteps=` needs 254. */
  readonly version: number;
}

const LIMIT_KEYS: Readonly<Record<LimitResource, string>> = {
  as: "LimitAS",
  core: "LimitCORE",
  cpu: "LimitCPU",
  data: "LimitDATA",
  fsize: "LimitFSIZE",
  memlock: "LimitMEMLOCK",
  msgqueue: "LimitMSGQUEUE",
  nice: "LimitNICE",
  nofile: "LimitNOFILE",
  nproc: "LimitNPROC",
  rss: "LimitRSS",
  rtprio: "LimitRTPRIO",
  sigpending: "LimitSIGPENDING",
  stack: "LimitSTACK",
};

const limitValue = (v: LimitValue) => v === "unlimited" ? "infinity" : String(v);

/** Process settings shared by job services and cron services. */
function execSettings(job: JobClass, notes: Notes, template: boolean): Entry[] {
  const s: Entry[] = [];
  s.push(["Environment", environmentValue("UPSTART_JOB", job.name)]);
  if (template) {
    s.push(["Environment", "UPSTART_INSTANCE=%i"]);
    const v = instanceVariable(job.instance);
    if (v && !(v in job.env)) s.push(["Environment", `${v}=%i`]);
    else if (!v) {
      notes.warn(
        "instance",
        `'${job.instance}': the instance name is %i, no variable is set from it`,
      );
    }
  }
  for (const [k, v] of Object.entries(job.env)) s.push(["Environment", environmentValue(k, v)]);
  if (job.chdir !== null) s.push(["WorkingDirectory", textValue(job.chdir)]);
  if (job.chroot !== null) s.push(["RootDirectory", textValue(job.chroot)]);
  if (job.setuid !== null) s.push(["User", textValue(job.setuid)]);
  if (job.setgid !== null) s.push(["Group", textValue(job.setgid)]);
  if (job.umask !== 0o022) s.push(["UMask", (job.umask & 0o777).toString(8).padStart(4, "0")]);
  if (job.nice !== null) s.push(["Nice", String(job.nice)]);
  if (job.oomScore !== null) {
    s.push(["OOMScoreAdjust", String(job.oomScore === "never" ? -1000 : job.oomScore)]);
  }
  for (
    const [res, lim] of Object.entries(job.limits) as [
      LimitResource,
      { soft: LimitValue; hard: LimitValue },
    ][]
  ) {
    s.push([LIMIT_KEYS[res], `${limitValue(lim.soft)}:${limitValue(lim.hard)}`]);
  }
  if (job.apparmorSwitch !== null) s.push(["AppArmorProfile", textValue(job.apparmorSwitch)]);
  switch (job.console) {
    case "none":
      s.push(["StandardOutput", "null"], ["StandardError", "null"]);
      break;
    case "output":
    case "owner":
      if (job.console === "owner") s.push(["StandardInput", "tty"]);
      s.push(["StandardOutput", "tty"], ["StandardError", "tty"], ["TTYPath", "/dev/console"]);
      break;
  }
  return s;
}

function killSettings(killSignal: string, killTimeout: number): Entry[] {
  return [
    ["KillMode", "control-group"],
    ["KillSignal", sigName(killSignal)],
    ["TimeoutStopSec", durationText(killTimeout)],
  ];
}

function header(file: string, notes: Notes): string[] {
  return [
    `Exported by upkeep export from ${file}; edit that file and export again.`,
    ...noteComments(notes.list, file),
  ];
}

/** The service unit (and its name) for one job. */
export function systemdJob(src: JobSource, opts: SystemdOptions): MappedUnit {
  const { job } = src;
  const notes = notesFor(src, job.name);
  commonNotes(job, notes, "systemd");
  const template = job.instance !== "";
  const name = `${unitName(job.name)}${template ? "@" : ""}.service`;
  const startOn = job.startOn ? analyzeCondition(job.startOn, formatEventExpr(job.startOn)) : null;
  const stopOn = job.stopOn ? analyzeCondition(job.stopOn, formatEventExpr(job.stopOn)) : null;
  const deps = dependencies(startOn, stopOn, notes, opts.tasks);
  if (!job.startOn) {
    notes.info(
      "start on",
      job.manual
        ? "manual: no [Install] section"
        : "no 'start on': no [Install] section; start it with systemctl start",
    );
  }

  const unit: Entry[] = [["Description", textValue(job.description ?? `upkeep job ${job.name}`)]];
  unit.push(...deps.unit);
  const service: Entry[] = [];

  // Type
  if (!job.main) {
    service.push(["Type", "oneshot"], ["RemainAfterExit", "yes"]);
  } else if (job.task) {
    service.push(["Type", "oneshot"]);
  } else if (job.expect === "fork" || job.expect === "daemon") {
    service.push(["Type", "forking"]);
  } else {
    service.push(["Type", "simple"]);
    if (job.expect === "stop") {
      notes.warn(
        "expect",
        "'expect stop': systemd does not resume a process that stops itself (SIGSTOP); " +
          "Type=simple, make the daemon stop raising SIGSTOP or use Type=notify",
      );
    }
  }
  service.push(...execSettings(job, notes, template));

  // Processes
  if (job.preStart) service.push(["ExecStartPre", execLine(processArgv(job.preStart))]);
  service.push(["ExecStart", job.main ? execLine(processArgv(job.main)) : "/bin/true"]);
  if (job.postStart) service.push(["ExecStartPost", execLine(processArgv(job.postStart))]);
  if (job.main && !job.task) {
    service.push(["ExecReload", `/bin/kill -s ${job.reloadSignal} $MAINPID`]);
  }
  if (job.preStop) service.push(["ExecStop", execLine(processArgv(job.preStop))]);
  if (job.postStop) service.push(["ExecStopPost", execLine(processArgv(job.postStop))]);

  // Respawn
  const normal = normalExitWords(job);
  if (job.respawn && job.main) {
    service.push(["Restart", job.task ? "on-failure" : "always"]);
    if (normal.length && !job.task) service.push(["RestartPreventExitStatus", normal.join(" ")]);
    if (job.respawnLimit === "unlimited") {
      unit.push(["StartLimitIntervalSec", "0"]);
    } else {
      unit.push(
        ["StartLimitIntervalSec", durationText(job.respawnLimit.interval)],
        ["StartLimitBurst", String(job.respawnLimit.count + 1)],
      );
    }
    if (job.respawnDelay) {
      const { min, max } = job.respawnDelay;
      service.push(["RestartSec", durationText(min)]);
      const steps = respawnDelaySteps(min, max);
      if (steps > 0 && opts.version >= 254) {
        service.push(["RestartSteps", String(steps)], ["RestartMaxDelaySec", durationText(max)]);
        notes.info(
          "respawn delay",
          `RestartSteps=${steps} grows the delay from ${min}s to ${max}s as upkeep doubles it; ` +
            "systemd resets it only when the unit is started anew, not after a long run",
        );
      } else if (steps > 0) {
        notes.warn(
          "respawn delay",
          `systemd ${opts.version} has no RestartSteps= (254 and later): every restart waits ${min}s`,
        );
      }
    }
    if (job.respawnRetry !== null) {
      notes.warn(
        "respawn retry",
        "systemd does not start a unit again after its start limit was hit; " +
          "consider StartLimitIntervalSec=0 with a longer RestartSec=",
      );
    }
  } else if (job.respawn) {
    notes.warn("respawn", "a job without a main process has nothing to respawn");
  } else if (job.respawnDelay || job.respawnRetry !== null) {
    notes.info("respawn delay", "no 'respawn': nothing to delay or retry");
  }
  if (normal.length) service.push(["SuccessExitStatus", normal.join(" ")]);
  service.push(...killSettings(job.killSignal, job.killTimeout));

  if (job.health) {
    if (job.health.memory !== null) service.push(["MemoryMax", String(job.health.memory)]);
    job.health.checks.forEach((c, i) => {
      notes.warn(
        `health ${c.type}`,
        `systemd has no health checks: '${
          c.type === "exec" ? c.command : c.type === "http" ? c.url : `${c.host}:${c.port}`
        }' ` +
          "is not run (use a timer that restarts the unit, or WatchdogSec= with sd_notify)",
        nthOfType(job.health!.checks, i),
      );
    });
    if (job.health.memory !== null) {
      notes.info(
        "health memory",
        "MemoryMax= makes the kernel kill the service at the limit (then Restart= applies)",
      );
    }
  }
  return {
    files: [{
      path: name,
      job: job.name,
      source: job.file,
      content: renderUnit({
        comments: header(job.file, notes),
        sections: [["Unit", unit], ["Service", service], ["Install", deps.install]],
      }),
    }],
    notes: notes.list,
  };
}

/** The timer and oneshot service of one `upkeep run` cron line. */
export function systemdCron(run: CronRun, opts: SystemdOptions): MappedUnit {
  const notes = notesFor(run.source, run.name, run);
  const o = run.options;
  const name = unitName(run.name);
  const where = `${run.file}:${run.line}`;
  const job = run.source?.job ?? null;
  if (job) commonNotes(job, notes, "systemd", true);

  const unit: Entry[] = [[
    "Description",
    textValue(job?.description ?? `${run.name} (upkeep run)`),
  ]];
  const service: Entry[] = [["Type", "oneshot"]];
  const user = job?.setuid ?? run.user;
  if (job) {
    service.push(...execSettings(job, notes, false));
  } else {
    service.push(["Environment", environmentValue("UPSTART_JOB", run.name)]);
    service.push(["WorkingDirectory", "~"]);
    if (run.user !== null) service.push(["User", textValue(run.user)]);
  }
  if (job && job.setuid === null && run.user !== null && run.user !== "root") {
    service.push(["User", textValue(run.user)]);
  }
  if (user === null) {
    notes.warn(
      "command",
      "a user's crontab names no user: the unit runs as root unless you add User= " +
        "(or install it with systemctl --user); --cron-user USER sets it",
    );
  }
  for (const [k, v] of Object.entries(run.env)) {
    if (k === "MAILTO" || k === "CRON_TZ" || k === "SHELL") continue;
    service.push(["Environment", environmentValue(k, v)]);
  }
  if (job) {
    if (job.preStart) service.push(["ExecStartPre", execLine(processArgv(job.preStart))]);
    service.push(["ExecStart", job.main ? execLine(processArgv(job.main)) : "/bin/true"]);
    if (job.postStop) service.push(["ExecStopPost", execLine(processArgv(job.postStop))]);
  } else {
    service.push(["ExecStart", execLine(o.command)]);
  }
  service.push(["TimeoutStartSec", o.timeout === null ? "infinity" : durationText(o.timeout)]);
  if (o.timeout !== null) {
    notes.info(
      "--timeout",
      "TimeoutStartSec= (RuntimeMaxSec= has no effect on Type=oneshot): the run is killed with " +
        "KillSignal= and SIGKILL after TimeoutStopSec=",
    );
  }
  if (o.retries > 0) {
    const delays = Array.from(
      { length: o.retries },
      (_, i) => Math.min(3600, o.retryDelay * 2 ** i),
    );
    const windowSeconds = Math.ceil(
      delays.reduce((a, b) => a + b, 0) + (o.retries + 1) * (o.timeout ?? 0),
    ) + 1;
    service.push(["Restart", "on-failure"], ["RestartSec", durationText(o.retryDelay)]);
    const steps = respawnDelaySteps(o.retryDelay, delays[delays.length - 1]!);
    if (steps > 0 && opts.version >= 254) {
      service.push(["RestartSteps", String(steps)], [
        "RestartMaxDelaySec",
        durationText(delays[delays.length - 1]!),
      ]);
    }
    unit.push(["StartLimitIntervalSec", `${windowSeconds}s`], [
      "StartLimitBurst",
      String(o.retries + 1),
    ]);
    notes[o.timeout === null ? "warn" : "info"](
      "--retries",
      `systemd counts starts, not tries: at most ${o.retries + 1} within ${windowSeconds}s` +
        (o.timeout === null
          ? " (the delays only: without --timeout a long try leaves the window)"
          : ""),
    );
  }
  service.push(
    ...killSettings(
      o.killSignal ?? job?.killSignal ?? "TERM",
      o.killTimeout ?? job?.killTimeout ?? 5,
    ),
  );
  if (o.noOverlap && o.lockFile === null) {
    notes.info("--no-overlap", "a timer never starts its service while it still runs");
  }
  cronOptionNotes(run, notes, "systemd");

  const timer: Entry[] = [];
  if (run.schedule.kind === "reboot") {
    timer.push(["OnBootSec", "0"]);
  } else {
    for (const c of onCalendar(run.schedule, run.env.CRON_TZ ?? null)) {
      timer.push(["OnCalendar", c]);
    }
  }
  const comments = [
    `Exported by upkeep export from ${where}: ${run.schedule.written}`,
    ...noteComments(notes.list, run.source?.job.file ?? run.file),
  ];
  return {
    files: [
      {
        path: `${name}.service`,
        job: run.name,
        source: where,
        content: renderUnit({ comments, sections: [["Unit", unit], ["Service", service]] }),
      },
      {
        path: `${name}.timer`,
        job: run.name,
        source: where,
        content: renderUnit({
          comments: [`Exported by upkeep export from ${where}: ${run.schedule.written}`],
          sections: [
            ["Unit", [[
              "Description",
              textValue(`Schedule of ${run.name}: ${run.schedule.written}`),
            ]]],
            ["Timer", timer],
            ["Install", [["WantedBy", "timers.target"]]],
          ],
        }),
      },
    ],
    notes: notes.list,
  };
}
