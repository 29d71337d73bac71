/**
 * `upkeep doctor`: one command that tells whether a user is safe. Is the daemon running (its socket
 * answers), is it registered for boot and by which mechanism (the install manifest, else the
 * artifacts found), do all job files parse, which jobs are stopped after failing or hitting their
 * respawn limit or are unhealthy, is the log dir writable and how full is its disk (`df -Pk`, which
 * every Linux has, rather than FFI statvfs with per-arch struct layouts). Exit 0 when all is well,
 * 1 with the list of problems. This file gathers the facts; lib/install/doctor_checks.ts judges.
 */

import { parseArgs } from "node:util";
import { sendRequest } from "../control/client.ts";
import { PROTOCOL_VERSION } from "../control/protocol.ts";
import { loadConfDirs } from "../job/load.ts";
import { formatDiagnostic } from "../job/model.ts";
import { commandCrontab, readManifest } from "../install/apply.ts";
import { CRONTAB_MARKER } from "../install/artifacts.ts";
import {
  cronCommands,
  inittabCommand,
  openrcCommand,
  systemdExecStart,
} from "../install/boot_command.ts";
import {
  type Check,
  formatReport,
  jobChecks,
  type JobStatus,
  logDirCheck,
  parseDf,
} from "../install/doctor_checks.ts";
import type { Manifest } from "../install/manifest.ts";
import { rooted, systemPaths, userPaths } from "../install/paths.ts";
import { defaultPaths } from "./paths.ts";
import { daemonAnswers } from "./watchdog.ts";

const HELP = `Usage: upkeep doctor [OPTION]...

Tell whether upkeep keeps your jobs safe: daemon running, registered for boot, job files parse,
no job stopped after failing, log dir writable with room on its disk. Exit 0 when all is well.

  --socket PATH     the daemon's socket (default: the installed one, else the daemon's default)
  --conf-dir DIR    job files (repeatable)
  --state-dir DIR   the daemon's state dir (its socket is STATE_DIR/upkeep.sock)
  --log-dir DIR     the daemon's log dir
  --root DIR        look for the install (manifest, boot artifacts) under DIR
  --json            print the checks as JSON`;

function readText(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
}

/** Whether a path exists, itself (an enable link's target is as the booted system sees it). */
function linkExists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function isExecutable(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    return st.isFile && ((st.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** The boot registration check: from the manifest when there is one, else the artifacts found. */
async function bootCheck(root: string, manifest: Manifest | null): Promise<Check> {
  const at = (p: string) => rooted(root, p);
  const found: { how: string; where: string; argv: string[] | null }[] = [];
  const unit = readText(at("/etc/systemd/system/upkeep.service"));
  if (unit !== null) {
    const enabled = linkExists(at("/etc/systemd/system/multi-user.target.wants/upkeep.service"));
    found.push({
      how: enabled ? "systemd" : "systemd (unit not enabled)",
      where: "/etc/systemd/system/upkeep.service",
      argv: systemdExecStart(unit),
    });
  }
  const rc = readText(at("/etc/init.d/upkeep"));
  if (rc !== null && rc.includes("supervise-daemon")) {
    const enabled = linkExists(at("/etc/runlevels/default/upkeep"));
    found.push({
      how: enabled ? "OpenRC" : "OpenRC (not in the default runlevel)",
      where: "/etc/init.d/upkeep",
      argv: openrcCommand(rc),
    });
  }
  const inittab = inittabCommand(readText(at("/etc/inittab")) ?? "");
  if (inittab) found.push({ how: "inittab respawn", where: "/etc/inittab", argv: inittab });
  const cronD = readText(at("/etc/cron.d/upkeep"));
  if (cronD !== null) {
    const c = cronCommands(cronD, true);
    found.push({ how: "cron @reboot + watchdog", where: "/etc/cron.d/upkeep", argv: c.reboot });
  }
  if (manifest?.user && !root) {
    const text = await commandCrontab().read().catch(() => "");
    if (text.includes(CRONTAB_MARKER)) {
      const c = cronCommands(text, false);
      found.push({ how: "user crontab @reboot + watchdog", where: "crontab -l", argv: c.reboot });
    }
  }
  if (found.length === 0) {
    const detail = manifest
      ? `installed with ${manifest.init}, but its boot entry is gone: run 'upkeep install' again`
      : "not registered for boot: run 'upkeep install' (as root) or 'upkeep install --user'";
    return { name: "boot", status: "problem", detail };
  }
  const f = found[0]!;
  const bin = f.argv?.[0];
  if (!bin || !isExecutable(at(bin))) {
    return {
      name: "boot",
      status: "problem",
      detail: `${f.how} (${f.where}) runs ${bin ?? "nothing"}, which is not an executable file`,
    };
  }
  const disabled = /not /.test(f.how);
  const origin = manifest ? "" : " (not recorded by upkeep install)";
  const more = found.length > 1 ? `; also ${found.slice(1).map((x) => x.how).join(", ")}` : "";
  return {
    name: "boot",
    status: disabled ? "problem" : "ok",
    detail: `registered with ${f.how} (${f.where})${origin}${more}`,
  };
}

/** Whether `dir` is writable: create and remove a file there. */
function probeWritable(dir: string): true | string {
  const path = `${dir}/.upkeep-doctor-${Deno.pid}`;
  try {
    Deno.writeTextFileSync(path, "");
    Deno.removeSync(path);
    return true;
  } catch (e) {
    return e instanceof Deno.errors.NotFound
      ? "No such file or directory"
      : e instanceof Error
      ? e.message
      : String(e);
  }
}

async function diskUsage(dir: string) {
  try {
    const out = await new Deno.Command("df", {
      args: ["-Pk", dir],
      stdout: "piped",
      stderr: "null",
    })
      .output();
    return out.success ? parseDf(new TextDecoder().decode(out.stdout)) : null;
  } catch {
    return null;
  }
}

export async function doctorMain(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        socket: { type: "string" },
        "conf-dir": { type: "string", multiple: true },
        "state-dir": { type: "string" },
        "log-dir": { type: "string" },
        root: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    console.error(
      `upkeep doctor: ${e instanceof Error ? e.message : e} (try 'upkeep doctor --help')`,
    );
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const root = (values.root ?? "").replace(/\/+$/, "");
  const uid = Deno.uid();
  const userManifest = userPaths(Deno.env.get("HOME") ?? "/", {
    XDG_CONFIG_HOME: Deno.env.get("XDG_CONFIG_HOME"),
    XDG_STATE_HOME: Deno.env.get("XDG_STATE_HOME"),
  }).manifest;
  const manifestPaths = uid === 0 || root
    ? [systemPaths().manifest, userManifest]
    : [userManifest, systemPaths().manifest];
  let manifest: Manifest | null = null;
  for (const p of manifestPaths) {
    manifest ??= await readManifest(root, p).catch(() => null);
  }
  // Paths: the options, else the installed ones (mapped under --root), else the daemon's defaults.
  const installed = manifest?.paths;
  const defaults = defaultPaths();
  const inRoot = (p: string) => rooted(root, p);
  const stateDir = values["state-dir"] ??
    (installed ? inRoot(installed.stateDir) : defaults.stateDir);
  const socket = values.socket ??
    (values["state-dir"]
      ? `${stateDir}/upkeep.sock`
      : installed
      ? inRoot(installed.socket)
      : defaults.socket);
  const confDirs = values["conf-dir"] ??
    (installed ? [inRoot(installed.confDir)] : defaults.confDirs);
  const logDir = values["log-dir"] ?? (installed ? inRoot(installed.logDir) : defaults.logDir);

  const checks: Check[] = [];
  // 1. The daemon.
  const running = await daemonAnswers(socket);
  let version = "";
  if (running) {
    const r = await sendRequest(socket, {
      v: PROTOCOL_VERSION,
      cmd: "version",
      args: [],
      options: {},
    }, 1000)
      .catch(() => null);
    version = r?.ok ? r.out.trim() : "";
  }
  checks.push(
    running
      ? {
        name: "daemon",
        status: "ok",
        detail: `running, answering on ${socket}${version ? ` (${version})` : ""}`,
      }
      : { name: "daemon", status: "problem", detail: `not running: no answer on ${socket}` },
  );
  // 2. Boot.
  checks.push(await bootCheck(root, manifest));
  // 3. Job files.
  const loaded = loadConfDirs(confDirs);
  const errors = loaded.diagnostics.filter((d) => d.severity === "error");
  const warnings = loaded.diagnostics.filter((d) => d.severity === "warning");
  checks.push({
    name: "job files",
    status: errors.length ? "problem" : warnings.length ? "warn" : "ok",
    detail:
      `${loaded.jobs.size} job${loaded.jobs.size === 1 ? "" : "s"} in ${confDirs.join(", ")}` +
      (errors.length ? `; ${errors.length} error${errors.length === 1 ? "" : "s"}:` : "") +
      [...errors, ...warnings].map((d) => `\n    ${formatDiagnostic(d)}`).join(""),
  });
  // 4. Jobs.
  if (running) {
    const reply = await sendRequest(socket, {
      v: PROTOCOL_VERSION,
      cmd: "status",
      args: [],
      options: { json: true },
    }, 5000).catch((e) => e as Error);
    if (reply instanceof Error || !reply.ok) {
      const why = reply instanceof Error ? reply.message : reply.error;
      checks.push({ name: "jobs", status: "problem", detail: `status failed: ${why}` });
    } else {
      const jobs = JSON.parse(reply.out) as JobStatus[];
      const bad = jobChecks(jobs);
      const up = jobs.filter((j) => j.goal === "start").length;
      checks.push(...bad);
      const adopted = jobs.filter((j) => j.adopted).length;
      const kept = adopted
        ? `; ${adopted} kept from an earlier upkeep (their exit status is not seen, only their end)`
        : "";
      if (bad.length === 0) {
        checks.push({
          name: "jobs",
          status: "ok",
          detail: `${jobs.length} known, ${up} with goal start, none failing${kept}`,
        });
      } else if (adopted) {
        checks.push({
          name: "jobs",
          status: "ok",
          detail: `${adopted} kept from an earlier upkeep`,
        });
      }
    }
  }
  // 5. Log dir.
  const writable = probeWritable(logDir);
  checks.push(logDirCheck(logDir, writable, writable === true ? await diskUsage(logDir) : null));

  const report = formatReport(checks);
  if (values.json) {
    const problems = checks.filter((c) => c.status === "problem");
    console.log(JSON.stringify({ ok: report.code === 0, checks, problems }, null, 2));
  } else {
    console.log(report.text);
  }
  return report.code;
}
