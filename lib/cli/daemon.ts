/**
 * `upkeep daemon`: the supervisor in the foreground. Wires the world to the core: job files
 * (loaded and watched), the process port, timers, the control socket, signals (TERM/INT stop every
 * job and exit, HUP reloads, CHLD reaps orphans), boot events, and the daemon log.
 */

import { nextTask } from "../next_task.ts";
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
import { DaemonRestart } from "./daemon_restart.ts";
import { HealthSupervision } from "../supervisor/health.ts";
import { checkConfigText, showConfigText } from "./daemon_config.ts";
import { ConfigReloader } from "../supervisor/reload.ts";
import { IdleGc } from "../process/idle_gc.ts";
import { DAEMON_V8_FLAGS } from "../process/self_exec.ts";
import { JobLogs } from "../log/job_logs.ts";
import { quietSignals } from "../process/quiet_signals.ts";
import { installLastNet } from "../process/last_net.ts";
import { fifoDirFor } from "../log/fifo_dir.ts";
import { type LogFlags, logSettingsFromFlags } from "../log/settings.ts";
import { type ConfWatch, watchConfDirs } from "../watch/conf_watch.ts";
import { LongTimers } from "../supervisor/long_timers.ts";

const HELP = `Usage: upkeep daemon [OPTION]...

Run the supervisor in the foreground.

  --conf-dir DIR   job files (repeatable; default /etc/init as root, ~/.config/upkeep/init otherwise)
  --state-dir DIR  runtime state and lock (default /run/upkeep)
  --log-dir DIR    job logs and upkeep.log (default /var/log/upkeep)
  --socket PATH    control socket (default STATE_DIR/upkeep.sock)
  --runlevel N     runlevel announced at start (default 2)
  --startup-event NAME  emit only NAME at start instead of the boot events (as Upstart's init)
  --no-startup-event    emit no event at start (as Upstart's init)
  --debug, -v, --verbose
                   also log goal and state changes and every process start, unlimited (by
                   default: process exits and respawns, at most 20 lines per job in 10 s)

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
  const emitsBootEvents = values["no-startup-event"] !== true && str("startup-event") === undefined;
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
  const quiet = quietSignals(); // SIGUSR1 and SIGALRM do nothing: see there

  const log = new DaemonLog(
    `${logDir}/upkeep.log`,
    values.debug === true || values.verbose === true,
  );
  // Job output goes through pipes the daemon reads; those an earlier daemon left (this one before
  // a re-exec, or one that died) are read again first: adopted jobs write on into them, and what
  // they hold from jobs that ended meanwhile is written out.
  const jobLogs = new JobLogs({
    logDir,
    pipeDir: `${stateDir}/logs`,
    fifoDir: fifoDirFor(stateDir, `${stateDir}/logs`, (m) => log.write(m)),
    defaults: logDefaults,
    log: (m, level, job) => log.write(m, level, job),
    onActivity: () => logActivity(),
  });
  let logActivity = () => {}; // the idle GC, once it exists
  if (quiet !== null) log.write(`cannot make SIGUSR1 and SIGALRM harmless: ${quiet}`);
  installLastNet((m) => log.write(m));
  const recovered = jobLogs.recover();
  if (recovered) log.write(`reading ${recovered} job log pipes left by an earlier upkeep`);
  // What an earlier daemon (this one before a re-exec, or one that died) left: its jobs are
  // taken over, never started twice.
  const restart = new DaemonRestart(stateDir, (m) => log.write(m));
  const emitBoot = restart.bootEventsDue && values["no-startup-event"] !== true;
  restart.bootPending = emitBoot;
  const daemonEnv = Deno.env.toObject();
  let users: UserDb = loadUserDb();
  const daemonUmask = Deno.umask();
  Deno.umask(daemonUmask);

  // Any delay: a kill timeout may be far longer than setTimeout's 24.8 days.
  const longTimers = new LongTimers();
  const timers: TimerPort = {
    now: () => performance.now(),
    set: (ms, fn) => longTimers.set(ms, fn),
    clear: (id) => longTimers.clear(id),
    soon: nextTask,
  };
  const port = new RealProcessPort(() => users, daemonUmask, (m) => log.write(m), undefined, {
    helper: helperCommand(daemonEnv),
    baseNofile: nofile,
  });
  if (nofile) {
    log.write(`jobs start with open files limit ${nofile.soft} (from ${nofile.source})`, "debug");
  }
  const shimDir = writeShims(`${stateDir}/bin`);
  const supervisor: Supervisor = new Supervisor({
    processes: port,
    timers,
    log: (m, level, job) => log.write(m, level, job),
    logDir,
    ...(jobLogs.available ? { logs: jobLogs } : {}),
    jobEnv: initialJobEnv(daemonEnv),
    processEnv: { UPKEEP_SOCKET: socket, UPKEEP_LOG_DIR: logDir },
    shimDir,
    recorder: restart.makeRecorder(
      (): Supervisor => supervisor,
      () => health,
      (pid) => port.takeSpawnedStart(pid),
    ),
  });
  if (restart.jobEnv) {
    for (const k of Object.keys(supervisor.jobEnv)) delete supervisor.jobEnv[k];
    Object.assign(supervisor.jobEnv, restart.jobEnv);
  }
  const health: HealthSupervision = new HealthSupervision(supervisor, (m) => log.write(m));
  const idleGc = new IdleGc();
  if (!idleGc.enabled) {
    // No gc(): a compiled binary built without the flags (scripts/compile.ts builds them in), or an
    // exec that failed. The daemon works, but its memory and idle tuning are off (self_exec.ts).
    log.write(
      `running without its V8 flags (${DAEMON_V8_FLAGS.join(" ")}): memory is not ` +
        "given back after bursts of work, and the idle daemon wakes up more",
    );
  }
  logActivity = () => idleGc.activity();
  supervisor.onInstanceChange = (inst) => {
    health.update(inst);
    idleGc.activity();
  };

  // ---- configuration
  const config = new ConfigReloader(confDirs, daemonEnv, (m) => log.write(m));
  const reload = (unsettled?: ReadonlySet<string>) => {
    users = loadUserDb();
    return config.reload(supervisor, unsettled);
  };
  let watch: ConfWatch | null = null; // see "watch the conf dirs" below
  /** reload-configuration and SIGHUP: every file as it is now, and every directory watched. */
  const reloadAll = () => {
    watch?.resync();
    return reload();
  };
  // A SIGCHLD reaps at once (waitpid: no zombie waits), but the exits are handled in a task of
  // their own: a storm of exits then never keeps the event loop from the control socket and the
  // timers (signals delivered back to back would otherwise run as one endless chain of work).
  // Listened to before the first spawn: the restore below respawns what ended while no daemon
  // ran, and a child's SIGCHLD with nobody listening is lost (its job then waited in
  // start/spawned or pre-start until some other child ended).
  const childSignalled = () => {
    port.childSignalled();
    port.reap();
  };
  Deno.addSignalListener("SIGCHLD", childSignalled);
  const count = reload();
  log.write(`upkeep ${Deno.pid} started: ${count} jobs from ${confDirs.join(", ")}`);
  restart.restore(supervisor, health);
  // What ended before the listener was there (a child of the daemon before a re-exec): a zombie
  // that no signal will announce again.
  childSignalled();

  // ---- control socket
  const ctx = {
    sup: supervisor,
    reloadConfiguration: () => void reloadAll(),
    health: (inst: Parameters<typeof health.view>[0]) => health.view(inst),
    showConfig: showConfigText,
    // The boot events are known when this daemon emits them (not when it starts as Upstart's
    // init does, with --startup-event or --no-startup-event).
    checkConfig: (...a: Parameters<typeof checkConfigText>) =>
      checkConfigText(a[0], a[1], a[2], a[3] ?? null, emitsBootEvents),
    logPriority: "message",
    wallOffsetMs: Date.now() - performance.now(),
    reexec: (program: string | null) => {
      const busy = port.busy ?? supervisor.busy;
      if (busy) return { error: busy };
      if (program !== null && !isExecutable(program)) {
        return { error: `${program} is not an executable file` };
      }
      return { go: () => reexec(program) };
    },
  };
  const reexec = (program: string | null) => {
    log.write(`re-exec${program ? ` into ${program}` : ""}: handing every job over`);
    const error = restart.reexec(supervisor, program, argv, () => {
      server.close();
      stopWatching();
      log.flush();
    }, () => {
      server.listen();
      startWatching();
    });
    log.write(`re-exec failed, carrying on as before: ${error}`);
  };
  const server = new ControlServer(
    socket,
    (req, privileged) => {
      idleGc.activity();
      return handleRequest(ctx, req, privileged);
    },
  );
  server.listen();
  // Start-up itself is a burst (modules, job files, state): collected once it is over, also
  // when no job runs.
  idleGc.activity();

  // ---- watch the conf dirs (lib/watch/: inotify, a reload once a changed file is whole)
  const startWatching = () => {
    watch = watchConfDirs(confDirs, (m) => log.write(m), (unsettled) => {
      log.write("configuration changed: reloading");
      reload(unsettled);
    });
  };
  const stopWatching = () => {
    watch?.close();
    watch = null;
  };
  startWatching();

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
        deadline = longTimers.set((longest + 10) * 1000, () => done(true));
        supervisor.shutdown(() => done(false));
      });
      if (deadline !== undefined) longTimers.clear(deadline);
      if (timedOut) {
        log.write("shutdown: jobs still stopping after the deadline: killing what is left");
        supervisor.killEverything();
      }
      await jobLogs.close(3000);
      server.close();
      stopWatching();
      if (!timedOut) restart.forget();
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
    reloadAll();
  });
  Deno.addSignalListener("SIGPIPE", () => {});

  // ---- boot events (a re-exec or a restart after a crash is not a boot, unless the daemon
  // before died before what they started was recorded)
  if (emitBoot) {
    const only = str("startup-event");
    const events = only !== undefined
      ? [[only, []] as [string, [string, string][]]]
      : bootEvents(runlevel);
    if (restart.mode !== "fresh") log.write("the boot events were not all taken: emitted again");
    for (const [name, env] of events) supervisor.emit(name, env);
    restart.bootDone(supervisor);
  }
  // Pipes no restored or started instance took up: written out, then closed.
  jobLogs.releaseUnclaimed();

  return await exited;
}

function isExecutable(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    return st.isFile && ((st.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}
