/**
 * The daemon side of every initctl command: look up jobs and instances in the supervisor, change
 * goals, wait where Upstart waits, and answer with Upstart's exact words. Runs inside the daemon;
 * all supervisor access goes through `sup.call` so it happens in the serial loop.
 */

import { ExpandError } from "../events/expand.ts";
import type { JobClass } from "../job/model.ts";
import { killProcess } from "../process/spawn.ts";
import { classEnv, type Env, parseAssignments } from "../supervisor/environment.ts";
import {
  displayName,
  failureJson,
  formatHealth,
  formatLog,
  formatNextTry,
  formatStatus,
  formatStopped,
  statusJson,
} from "../supervisor/status.ts";
import type { Instance, JobClassEntry, Supervisor } from "../supervisor/supervisor.ts";
import { VERSION } from "../version.ts";
import { CommandError } from "./command_error.ts";
import { envCommand } from "./env_commands.ts";
import {
  errorReply,
  okReply,
  PROTOCOL_VERSION,
  READ_ONLY_COMMANDS,
  type Reply,
  type Request,
} from "./protocol.ts";

export interface DaemonContext {
  readonly sup: Supervisor;
  /** Re-read the conf dirs. */
  reloadConfiguration(): void;
  /** Health of an instance for status (null when it has no checks). */
  health(inst: Instance): import("../supervisor/status.ts").HealthView | null;
  /** show-config / check-config of the loaded jobs. */
  showConfig(jobs: JobClass[], enumerate: boolean): string;
  /** The report for `only` (a job name) or every job, checked against all `jobs`. */
  checkConfig(
    jobs: JobClass[],
    ignore: readonly string[],
    warn: boolean,
    only: string | null,
  ): string;
  logPriority: string;
  /** Offset from the monotonic clock to wall-clock milliseconds. */
  readonly wallOffsetMs: number;
  /**
   * Hand the daemon over to `program` (null: the same program) in place. Returns why it cannot
   * now, or the step to run once the reply is out.
   */
  reexec?(program: string | null): { error: string } | { go: () => void };
}

const LOG_PRIORITIES = ["debug", "info", "message", "warn", "error", "fatal"];

export async function handleRequest(
  ctx: DaemonContext,
  req: Request,
  privileged: boolean,
): Promise<Reply> {
  const cmd = req.cmd === "log-priority" && req.args.length === 0 ? "log-priority-get" : req.cmd;
  if (!privileged && !READ_ONLY_COMMANDS.has(cmd)) {
    const job = req.args[0] ?? req.options.self?.job;
    return errorReply(
      ["start", "stop", "restart", "reload"].includes(cmd) && job
        ? `You do not have permission to modify job: ${job}`
        : `Permission denied: '${req.cmd}' needs the daemon's user`,
    );
  }
  try {
    return await dispatchCommand(ctx, req, cmd);
  } catch (e) {
    if (e instanceof CommandError) return errorReply(e.message);
    if (e instanceof ExpandError) return errorReply(e.message);
    throw e;
  }
}

async function dispatchCommand(ctx: DaemonContext, req: Request, cmd: string): Promise<Reply> {
  const { sup } = ctx;
  const o = req.options;
  switch (cmd) {
    case "ping":
      return okReply("");
    case "version":
      return okReply(`init (upkeep ${VERSION}; upstart 1.13.2 compatible)`);
    case "status":
      if (req.args.length === 0 && !o.self) return list(ctx, o.json === true);
      return status(ctx, req);
    case "list":
      return list(ctx, o.json === true);
    case "start":
    case "stop":
    case "restart":
      return await goalCommand(ctx, req, cmd);
    case "reload": {
      const { inst } = findInstance(ctx, req);
      const pid = inst.st.pids.main;
      // Upstart's words; the reload signal goes to the main process only, by name or number.
      const notRunning = `Job is not running: ${displayName(inst.job.name, inst.name)}`;
      if (pid === undefined) throw new CommandError(notRunning);
      let sent = false;
      try {
        sent = killProcess(pid, inst.job.reloadSignal);
      } catch { /* a pid we must not signal */ }
      if (!sent) throw new CommandError(notRunning);
      return okReply("");
    }
    case "emit": {
      const [name, ...rest] = req.args;
      if (name === undefined) throw new CommandError("missing event name");
      if (name === "") throw new CommandError("Name may not be empty string");
      const env = assignments(rest);
      if (o.noWait) {
        sup.emit(name, env);
        return okReply("");
      }
      const failed = await new Promise<boolean>((resolve) => sup.emit(name, env, resolve));
      return failed ? errorReply("Event failed") : okReply("");
    }
    // Upstart's notifications (disk writeable, D-Bus and cgroup manager addresses) and its user
    // sessions mean nothing to upkeep: accepted, nothing to do, nothing to list.
    case "notify-disk-writeable":
    case "notify-dbus-address":
    case "notify-cgroup-manager-address":
    case "list-sessions":
      return okReply("");
    case "reload-configuration":
      ctx.reloadConfiguration();
      return okReply("");
    case "reexec": {
      const r = ctx.reexec?.(req.args[0] ?? null) ?? { error: "re-exec is not available" };
      if ("error" in r) throw new CommandError(r.error);
      return { v: PROTOCOL_VERSION, ok: true, out: "", after: r.go };
    }
    case "show-config": {
      // Only the first name counts, as in Upstart's initctl.
      const [name] = req.args;
      const jobs = name === undefined ? allJobs(ctx) : [findClass(ctx, name).job];
      return okReply(ctx.showConfig(jobs, o.enumerate === true));
    }
    case "check-config": {
      const [name] = req.args;
      const all = allJobs(ctx);
      if (name !== undefined && !all.some((j) => j.name === name)) {
        throw new CommandError(`Invalid job class: ${name}`);
      }
      const text = ctx.checkConfig(all, o.ignoreEvents ?? [], o.warn === true, name ?? null);
      // initctl exits 1 when there is a report (something cannot be satisfied).
      return okReply(text);
    }
    case "usage": {
      const name = req.args[0] ?? o.self?.job;
      if (name === undefined) throw new CommandError("missing job name");
      const cls = findClass(ctx, name);
      return okReply(`Usage: ${cls.job.usage ?? ""}`);
    }
    case "log-priority-get":
      return okReply(ctx.logPriority);
    case "log-priority": {
      const level = req.args[0]!;
      if (!LOG_PRIORITIES.includes(level)) {
        throw new CommandError("The log priority given was not recognised");
      }
      ctx.logPriority = level;
      return okReply("");
    }
    case "list-env":
    case "get-env":
    case "set-env":
    case "unset-env":
    case "reset-env":
      return okReply(envCommand(sup, req, (name) => findClass(ctx, name)));
    default:
      throw new CommandError(`invalid command: ${req.cmd}`);
  }
}

function assignments(args: readonly string[]): [string, string][] {
  const pairs = parseAssignments(args);
  if (!pairs) throw new CommandError("Env must be KEY=VALUE pairs");
  return pairs;
}

function findClass(ctx: DaemonContext, name: string): JobClassEntry {
  if (name === "") throw new CommandError("Name may not be empty string");
  const cls = ctx.sup.classes.get(name);
  if (!cls || (cls.deleted && cls.instances.size === 0)) {
    throw new CommandError(`Unknown job: ${name}`);
  }
  return cls;
}

/** Every job class, with those whose file was removed while an instance still runs (as Upstart). */
function allJobs(ctx: DaemonContext): JobClass[] {
  return [...ctx.sup.classes.values()].filter((c) => !c.deleted || c.instances.size > 0)
    .map((c) => c.job)
    .sort((a, b) => a.name < b.name ? -1 : 1);
}

/** Resolve JOB [K=V...] (or the calling job itself) to a class, instance name and env. */
function target(
  ctx: DaemonContext,
  req: Request,
  withUsage = true,
): { cls: JobClassEntry; name: string; env: Env; pairs: [string, string][]; self: boolean } {
  const self = req.args.length === 0 ? req.options.self : undefined;
  if (self) {
    const cls = findClass(ctx, self.job);
    const env = classEnv(cls.job, ctx.sup.jobEnv);
    return { cls, name: self.instance, env, pairs: [], self: true };
  }
  const [jobName, ...rest] = req.args;
  if (jobName === undefined) throw new CommandError("missing job name");
  const cls = findClass(ctx, jobName);
  const pairs = assignments(rest);
  const env = classEnv(cls.job, ctx.sup.jobEnv);
  for (const [k, v] of pairs) env[k] = v;
  try {
    return { cls, name: ctx.sup.instanceName(cls, env), env, pairs, self: false };
  } catch (e) {
    if (!(e instanceof ExpandError)) throw e;
    // As Upstart: the job's usage text follows an instance-expansion error (not for restart).
    const usage = cls.job.usage === null || !withUsage ? "" : `\nUsage: ${cls.job.usage}`;
    throw new CommandError(`${e.message}${usage}`);
  }
}

function findInstance(ctx: DaemonContext, req: Request) {
  const t = target(ctx, req);
  const inst = t.cls.instances.get(t.name);
  if (!inst) throw new CommandError(`Unknown instance: ${t.name}`);
  return { ...t, inst };
}

function statusLine(ctx: DaemonContext, inst: Instance): string {
  const view = ctx.sup.view(inst);
  return formatStatus(
    view,
    formatLog(view.log) + formatHealth(ctx.health(inst)) +
      formatNextTry(view.failure, performance.now()),
  );
}

/** `JOB stop/waiting` of a class without an instance, and its next try when one is due. */
function stoppedLine(ctx: DaemonContext, cls: JobClassEntry): string {
  const failure = ctx.sup.failureOf(cls, "");
  return formatStopped(cls.job.name) + formatNextTry(failure, performance.now());
}

/**
 * The line for an instance, or, once it is gone, `JOB stop/waiting` (without the instance name,
 * as Upstart's initctl prints it after `stop inst X=web` or a finished task).
 */
function currentStatus(ctx: DaemonContext, cls: JobClassEntry, name: string): string {
  const inst = cls.instances.get(name);
  if (inst) return statusLine(ctx, inst);
  return name ? formatStopped(cls.job.name) : stoppedLine(ctx, cls);
}

function status(ctx: DaemonContext, req: Request): Reply {
  const t = target(ctx, req);
  const inst = t.cls.instances.get(t.name);
  if (!inst) {
    // As Upstart: a job named alone (no KEY=VALUE, not from inside a job) with no such instance
    // is simply stopped; with KEY=VALUE pairs it is an unknown instance.
    if (t.pairs.length === 0 && !t.self) {
      return req.options.json
        ? okReply(JSON.stringify([stoppedJson(ctx, t.cls)]))
        : okReply(stoppedLine(ctx, t.cls));
    }
    throw new CommandError(`Unknown instance: ${t.name}`);
  }
  if (req.options.json) return okReply(JSON.stringify([instanceJson(ctx, inst)], null, 2));
  return okReply(statusLine(ctx, inst));
}

function stoppedJson(ctx: DaemonContext, cls: JobClassEntry): Record<string, unknown> {
  return {
    name: cls.job.name,
    instance: "",
    goal: "stop",
    state: "waiting",
    pid: null,
    processes: {},
    since: null,
    respawns: 0,
    lastExit: null,
    logFile: null,
    logError: null,
    health: null,
    ...failureJson(ctx.sup.failureOf(cls, ""), ctx.wallOffsetMs),
  };
}

function instanceJson(ctx: DaemonContext, inst: Instance): Record<string, unknown> {
  return statusJson({ ...ctx.sup.view(inst), health: ctx.health(inst) }, ctx.wallOffsetMs);
}

function list(ctx: DaemonContext, json: boolean): Reply {
  const lines: string[] = [];
  const objects: Record<string, unknown>[] = [];
  const classes = [...ctx.sup.classes.entries()].sort(([a], [b]) => a < b ? -1 : 1);
  for (const [, cls] of classes) {
    if (cls.instances.size === 0) {
      if (cls.deleted) continue;
      lines.push(stoppedLine(ctx, cls));
      objects.push(stoppedJson(ctx, cls));
      continue;
    }
    for (const inst of cls.instances.values()) {
      lines.push(statusLine(ctx, inst));
      objects.push(instanceJson(ctx, inst));
    }
  }
  return json ? okReply(JSON.stringify(objects, null, 2)) : okReply(lines.join("\n"));
}

async function goalCommand(
  ctx: DaemonContext,
  req: Request,
  cmd: "start" | "stop" | "restart",
): Promise<Reply> {
  const { sup } = ctx;
  const t = target(ctx, req, cmd !== "restart");
  const wait = !req.options.noWait && !req.options.self;
  let waited: Promise<boolean> | null = null;
  let error: string | null = null;
  let resolveWait: ((failed: boolean) => void) | null = null;
  if (wait) waited = new Promise<boolean>((r) => resolveWait = r);
  // `stop --no-wait`: Upstart's initctl asks for the status in further calls after the stop, by
  // when init has mostly seen a job that dies at once on TERM end (`stop/waiting`). So the answer
  // waits a moment for the stop to settle, never longer than NO_WAIT_SETTLE_MS.
  let settled: Promise<boolean> | null = null;
  if (cmd === "stop" && !wait && !req.options.self) {
    settled = new Promise<boolean>((r) => resolveWait = r);
  }
  sup.call(() => {
    const inst = t.cls.instances.get(t.name);
    const label = displayName(t.cls.job.name, t.name);
    if (cmd === "start") {
      if (!sup.startInstance(t.cls, t.name, t.env, resolveWait)) {
        error = `Job is already running: ${label}`;
      }
    } else if (!inst) {
      // Stopping a job that gave up and waits for its `respawn retry` cancels that retry.
      if (cmd === "stop" && sup.cancelRetry(t.cls, t.name)) resolveWait?.(false);
      else error = `Unknown instance: ${t.name}`;
    } else if (cmd === "stop") {
      const stopEnv = t.pairs.length ? Object.fromEntries(t.pairs) : null;
      if (!sup.stopInstance(inst, stopEnv, resolveWait)) {
        error = `Job has already been stopped: ${label}`;
      }
    } else {
      // As Upstart: a restart by name starts again with the job's own environment plus the
      // given variables (what the starting event brought is gone); from inside the job, the
      // instance keeps its environment.
      const env = t.self ? null : t.env;
      if (!sup.restartInstance(inst, env, resolveWait)) {
        error = `Job has already been stopped: ${t.name}`;
      }
    }
  });
  if (error) return errorReply(error);
  if (waited) {
    const failed = await waited;
    if (failed) {
      return errorReply(
        cmd === "start"
          ? "Job failed to start"
          : cmd === "stop"
          ? "Job failed while stopping"
          : "Job failed to restart",
      );
    }
  }
  if (req.options.self) return okReply("");
  if (settled) await settleBriefly(settled);
  return okReply(currentStatus(ctx, t.cls, t.name));
}

/** How long `stop --no-wait` waits for the stop to settle before it answers (see goalCommand). */
export const NO_WAIT_SETTLE_MS = 20;

async function settleBriefly(settled: Promise<boolean>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    settled,
    new Promise<void>((r) => timer = setTimeout(r, NO_WAIT_SETTLE_MS)),
  ]);
  clearTimeout(timer);
}
