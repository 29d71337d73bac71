/**
 * `upkeep daemon`: the supervisor in the foreground. Wires the world to the core: job files
 * (loaded and watched), the process port, timers, the control socket, signals (TERM/INT stop every
 * job and exit, HUP reloads, CHLD reaps orphans), boot events, and the daemon log.
 */

import { DAEMON_OPTIONS, parseOptions } from "./options.ts";
import { closeInheritedFds, setChildSubreaper, tryLockFile } from "../process/ffi.ts";
import { loadUserDb, type UserDb } from "../process/users.ts";
import { Supervisor, type TimerPort } from "../supervisor/supervisor.ts";
import { RealProcessPort } from "../supervisor/process_port.ts";
import { initialJobEnv } from "../supervisor/environment.ts";
import { ControlServer } from "../control/server.ts";
import { handleRequest } from "../control/commands.ts";
import { type DaemonPaths, defaultPaths } from "./paths.ts";
import { usageError } from "./dispatch.ts";
import { bootEvents } from "../supervisor/boot_events.ts";
import { helperCommand, writeShims } from "./shims.ts";
import { originalNofile } from "../process/limits.ts";
import { prepareDaemonDirs } from "./daemon_dirs.ts";
import { DaemonLog } from "../log/daemon_log.ts";
import { stopLeftoverJobs } from "../install/leftover_jobs.ts";
import { HealthSupervision } from "../supervisor/health.ts";
import { checkConfigText, showConfigText } from "./daemon_config.ts";
import { ConfigReloader } from "../supervisor/reload.ts";
import { JobLogs } from "../log/job_logs.ts";
import { type LogFlags, logSettingsFromFlags } from "../log/settings.ts";

const HELP = `Usage: upkeep daemon [OPTION]...

Run the supervisor in the foreground.

  --conf-dir DIR   job files (repeatable; default /etc/init as root, ~/.config/upkeep/init otherwise)
  --state-dir DIR  runtime state and lock (default /run/upkeep)
  --log-dir DIR    job logs and upkeep.log (default /var/log/upkeep)
  --socket PATH    control socket (default STATE_DIR/upkeep.sock)
  --runlevel N     runlevel announced at start (default 2)
  --debug          log every state change

Job logs (console log; a job's 'log' stanzas win; see docs/logs.md):
  --log-size SIZE        rotate a job's log past SIZE (K, M, G; default 100M; 0: never)
  --log-keep N           rotated files kept (default 5)
  --log-max-age DAYS     remove rotated files older than DAYS (or 12h, 90m; default: no limit)
  --log-timestamps FMT   a time before every line: rfc3339 or tai64n (default off)
  --log-markers          a line in the log when a process starts and how it ended
  --log-compress         gzip rotated files`;

export async function daemonMain(argv: string[]): Promise<number> {
  const nofile = originalNofile(); // first: what we were given, before anything else changes it
  let values;
  try {
    values = parseOptions(argv, DAEMON_OPTIONS);
  } catch (e) {
    return usageError("upkeep daemon", e instanceof Error ? e.message : String(e));
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const abs = (p: string) => p.startsWith("/") ? p : `${Deno.cwd()}/${p}`;
  const str = (name: string) => values[name] as string | undefined;
  let defaults: DaemonPaths;
  try {
    defaults = defaultPaths();
  } catch (e) {
    // No home: fine as long as every directory is named.
    if (!values["conf-dir"] || !str("state-dir") || !str("log-dir")) {
      return usageError("upkeep daemon", e instanceof Error ? e.message : String(e));
    }
    defaults = { confDirs: [], stateDir: "", logDir: "", socket: "" };
  }
  const confDirs = ((values["conf-dir"] as string[] | undefined) ?? defaults.confDirs).map(abs);
  const stateDir = abs(str("state-dir") ?? defaults.stateDir);
  const logDir = abs(str("log-dir") ?? defaults.logDir);
  const socket = abs(
    str("socket") ?? (str("state-dir") ? `${stateDir}/upkeep.sock` : defaults.socket),
  );
  const runlevel = str("runlevel") ?? "2";
  if (!/^[0-9Ss]$/.test(runlevel)) return usageError("upkeep daemon", `bad runlevel '${runlevel}'`);
  const logDefaults = logSettingsFromFlags(values as LogFlags);
  if (typeof logDefaults === "string") return usageError("upkeep daemon", logDefaults);

  const dirsError = prepareDaemonDirs([
    stateDir,
    logDir,
    socket.slice(0, socket.lastIndexOf("/")) || "/",
  ]);
  if (dirsError) {
    console.error(`upkeep daemon: ${dirsError}`);
    return 1;
  }
  const lock = tryLockFile(`${stateDir}/upkeep.lock`, false);
  if (!lock) {
    console.error("upkeep daemon already running (lock held: " + `${stateDir}/upkeep.lock)`);
    return 1;
  }
  closeInheritedFds();
  setChildSubreaper();

  const log = new DaemonLog(`${logDir}/upkeep.log`, values.debug === true);
  // Job output goes through pipes the daemon reads; those an earlier daemon left are read again
  // first (what they hold is lost once their last holder ends: the leftovers stopped below).
  const jobLogs = new JobLogs({
    logDir,
    pipeDir: `${stateDir}/logs`,
    defaults: logDefaults,
    log: (m, level, job) => log.write(m, level, job),
  });
  const recovered = jobLogs.recover();
  if (recovered) log.write(`reading ${recovered} job log pipes left by an earlier upkeep`);
  // Job processes of a predecessor that died (kill -9) are stopped, so each job runs once.
  for (const l of await stopLeftoverJobs(socket)) {
    log.write(`stopped leftover process ${l.pid} of job ${l.job || "?"} from a previous upkeep`);
  }
  const daemonEnv = Deno.env.toObject();
  let users: UserDb = loadUserDb();
  const daemonUmask = Deno.umask();
  Deno.umask(daemonUmask);

  const timers: TimerPort = {
    now: () => performance.now(),
    set: (ms, fn) => Number(setTimeout(fn, ms)),
    clear: (id) => clearTimeout(id),
  };
  const port = new RealProcessPort(() => users, daemonUmask, (m) => log.write(m), undefined, {
    helper: helperCommand(daemonEnv),
    baseNofile: nofile,
  });
  if (nofile) {
    log.write(`jobs start with open files limit ${nofile.soft} (from ${nofile.source})`, "debug");
  }
  const shimDir = writeShims(`${stateDir}/bin`);
  const supervisor = new Supervisor({
    processes: port,
    timers,
    log: (m, level, job) => log.write(m, level, job),
    logDir,
    ...(jobLogs.available ? { logs: jobLogs } : {}),
    jobEnv: initialJobEnv(daemonEnv),
    processEnv: { UPKEEP_SOCKET: socket, UPKEEP_LOG_DIR: logDir },
    shimDir,
  });
  const health = new HealthSupervision(supervisor, (m) => log.write(m));
  supervisor.onInstanceChange = (inst) => health.update(inst);

  // ---- configuration
  const config = new ConfigReloader(confDirs, daemonEnv, (m) => log.write(m));
  const reload = () => {
    users = loadUserDb();
    return config.reload(supervisor);
  };
  const count = reload();
  log.write(`upkeep ${Deno.pid} started: ${count} jobs from ${confDirs.join(", ")}`);

  // ---- control socket
  const ctx = {
    sup: supervisor,
    reloadConfiguration: () => void reload(),
    health: (inst: Parameters<typeof health.view>[0]) => health.view(inst),
    showConfig: showConfigText,
    checkConfig: checkConfigText,
    logPriority: "message",
    wallOffsetMs: Date.now() - performance.now(),
  };
  const server = new ControlServer(
    socket,
    (req, privileged) => handleRequest(ctx, req, privileged),
  );
  server.listen();

  // ---- watch the conf dirs
  let reloadTimer: number | undefined;
  const watchers: Deno.FsWatcher[] = [];
  for (const dir of confDirs) {
    try {
      const w = Deno.watchFs(dir, { recursive: true });
      watchers.push(w);
      (async () => {
        try {
          for await (const _ of w) {
            clearTimeout(reloadTimer);
            reloadTimer = Number(setTimeout(() => {
              log.write("configuration changed: reloading");
              reload();
            }, 50));
          }
        } catch { /* watcher closed */ }
      })();
    } catch (e) {
      log.write(`cannot watch ${dir}: ${e instanceof Error ? e.message : e}`);
    }
  }

  // ---- signals
  let shuttingDown: Promise<void> | null = null;
  let resolveExit: (code: number) => void = () => {};
  const exited = new Promise<number>((r) => resolveExit = r);
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    log.write(`received ${signal}: stopping every job`);
    shuttingDown = (async () => {
      health.stopAll();
      // Bounded: pre-stop and post-stop scripts are waited for, but not forever.
      let longest = 5;
      for (const cls of supervisor.classes.values()) {
        for (const i of cls.instances.values()) longest = Math.max(longest, i.job.killTimeout);
      }
      let deadline: number | undefined;
      const timedOut = await new Promise<boolean>((done) => {
        deadline = Number(setTimeout(() => done(true), (longest + 10) * 1000));
        supervisor.shutdown(() => done(false));
      });
      clearTimeout(deadline);
      if (timedOut) {
        log.write("shutdown: jobs still stopping after the deadline: killing what is left");
        supervisor.killEverything();
      }
      await jobLogs.close(3000);
      server.close();
      for (const w of watchers) w.close();
      clearTimeout(reloadTimer);
      log.write(`upkeep ${Deno.pid} stopped`);
      log.close();
      lock.release();
      resolveExit(0);
    })();
  };
  Deno.addSignalListener("SIGTERM", () => shutdown("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => shutdown("SIGINT"));
  Deno.addSignalListener("SIGHUP", () => {
    log.write("received SIGHUP: reloading configuration");
    reload();
  });
  // A SIGCHLD only schedules a reap as its own task: a storm of exits then never keeps the event
  // loop from the control socket and the timers (signals delivered back to back would otherwise
  // run as one endless chain of callbacks).
  let reapScheduled = false;
  Deno.addSignalListener("SIGCHLD", () => {
    if (reapScheduled) return;
    reapScheduled = true;
    setTimeout(() => {
      reapScheduled = false;
      port.reap();
    }, 0);
  });
  Deno.addSignalListener("SIGPIPE", () => {});

  // ---- boot events
  for (const [name, env] of bootEvents(runlevel)) supervisor.emit(name, env);
  jobLogs.releaseUnclaimed();

  return await exited;
}
