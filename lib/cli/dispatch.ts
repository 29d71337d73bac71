/**
 * Subcommand dispatch. `upkeep SUBCOMMAND ...`, or, when the program is invoked under the name of an
 * Upstart command (`initctl`, `start`, `stop`, `restart`, `reload`, `status`) through a symlink or
 * a copy, that command. Each subcommand's module is imported lazily.
 */

/**
 * The modules subcommands load on demand, relative to this file. They are imported through a
 * computed specifier (`load`): `deno run` then reads each only when its command runs (a literal
 * `import("./x.ts")` makes it read and parse every one of them at start-up, ~9 ms for
 * `initctl status`), and scripts/compile.ts embeds each with `--include`.
 */
export const LAZY_MODULES = [
  "../version.ts",
  "../process/exec_job.ts",
  "../process/quiet_signals.ts",
  "../process/self_exec.ts",
  "./check_config.ts",
  "./daemon.ts",
  "./default_socket.ts",
  "./doctor.ts",
  "./export.ts",
  "./initctl.ts",
  "./initctl_help.ts",
  "./install.ts",
  "./logs.ts",
  "./run.ts",
  "./show_config.ts",
  "./upgrade.ts",
  "./version_text.ts",
  "./watchdog.ts",
] as const;

type LazyModule = typeof LAZY_MODULES[number];

/** Import a lazily loaded module (one of LAZY_MODULES, relative to lib/cli/). */
export function load<T>(path: LazyModule): Promise<T> {
  const specifier: string = path;
  return import(specifier);
}

/** Upstart's shortcut commands: invoked by name, they act as `initctl NAME`. */
export const SHORTCUTS = ["start", "stop", "restart", "reload", "status"] as const;

const USAGE = `Usage: upkeep COMMAND [OPTION]...

An Upstart-compatible process supervisor.

Commands:
  daemon          run the supervisor in the foreground
  initctl CMD     control the daemon (start, stop, restart, reload, status, list, emit, ...)
  start|stop|restart|reload|status JOB
                  shortcuts for the initctl commands of the same name
  check-config    check job files for errors (files or directories)
  show-config     print jobs' start on / stop on / emits, as initctl show-config
  run             run a job file or command once, for cron (timeouts, locks, retries, logs)
  logs JOB        print a job's log (rotated files too); -f follows it
  export          turn job files and cron runs into systemd, Kubernetes or Nomad definitions
  install         install upkeep as a boot service on this host's init
  uninstall       remove what install added
  doctor          tell whether the daemon, its boot service and its jobs are healthy
  watchdog        start the daemon unless its socket answers (cron runs this)
  upgrade NEW     hand the running daemon over to a new upkeep binary, every job kept

Options:
  -h, --help      show this help
  -V, --version   print the version

Run 'upkeep COMMAND --help' for a command's options.`;

/** The name this program was invoked as: basename of argv[0] (or `UPKEEP_ARGV0` from a launcher). */
export function invokedName(): string {
  const fromLauncher = Deno.env.get("UPKEEP_ARGV0");
  if (fromLauncher) return fromLauncher;
  try {
    const cmdline = Deno.readTextFileSync("/proc/self/cmdline");
    const argv0 = cmdline.split("\0")[0] ?? "";
    return argv0.slice(argv0.lastIndexOf("/") + 1);
  } catch {
    return "upkeep";
  }
}

/** Print a one-line usage error and return exit status 2. */
export function usageError(program: string, message: string): number {
  console.error(`${program}: ${message} (try '${program} --help')`);
  return 2;
}

/** See quietSignalsSoon. */
const QUIET_AFTER_MS = 250;

/**
 * Make SIGUSR1 and SIGALRM harmless in a command that runs for a while (`initctl start` waits for
 * its job, the watchdog for the daemon): under `deno run`, Deno starts its own SIGUSR1 listener,
 * which opens a V8 inspector, 500 ms after start (lib/process/quiet_signals.ts). A command done
 * sooner never loads the module. `daemon`, `run` and `logs` also do it themselves, at once (then
 * this finds it done).
 */
function quietSignalsSoon(): void {
  // Not a setTimeout: Deno loads its timers' modules at the first one (~8 ms of an `initctl
  // status`). A timed Atomics.waitAsync on a cell nobody notifies ends through V8's own delayed
  // task and does not keep the process alive (as lib/control/client.ts InactivityTimer).
  const wait = Atomics.waitAsync(new Int32Array(new SharedArrayBuffer(4)), 0, 0, QUIET_AFTER_MS);
  if (!wait.async) return;
  void wait.value.then(async () => {
    try {
      const { quietSignals } = await load<typeof import("../process/quiet_signals.ts")>(
        "../process/quiet_signals.ts",
      );
      quietSignals();
    } catch { /* as before: Deno's own handling */ }
  });
}

export async function dispatch(args: string[]): Promise<number> {
  if (args[0] !== "exec-job") quietSignalsSoon(); // the set-up helper imports nothing else
  if (args[0] === "exec-job") {
    // The set-up helper of a job process (hidden): first, and importing nothing else.
    const { execJobMain } = await load<typeof import("../process/exec_job.ts")>(
      "../process/exec_job.ts",
    );
    return execJobMain(args.slice(1));
  }
  const name = invokedName();
  if (name === "initctl") {
    const { initctlMain } = await load<typeof import("./initctl.ts")>("./initctl.ts");
    return initctlMain(args, "initctl");
  }
  if ((SHORTCUTS as readonly string[]).includes(name)) {
    const { initctlMain } = await load<typeof import("./initctl.ts")>("./initctl.ts");
    return initctlMain([name, ...args], name);
  }
  const [command, ...rest] = args;
  switch (command) {
    case undefined:
    case "-h":
    case "--help":
    case "help":
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    case "-V":
    case "--version":
    case "version": {
      const { versionText } = await load<typeof import("./version_text.ts")>("./version_text.ts");
      console.log(await versionText());
      return 0;
    }
    case "daemon": {
      // The daemon needs its V8 flags (and no update check) from the start: this execs itself
      // again with them once.
      const { ensureDaemonRuntime } = await load<typeof import("../process/self_exec.ts")>(
        "../process/self_exec.ts",
      );
      ensureDaemonRuntime();
      const { daemonMain } = await load<typeof import("./daemon.ts")>("./daemon.ts");
      return daemonMain(rest);
    }
    case "initctl": {
      const { initctlMain } = await load<typeof import("./initctl.ts")>("./initctl.ts");
      return initctlMain(rest, "initctl");
    }
    case "start":
    case "stop":
    case "restart":
    case "reload":
    case "status": {
      const { initctlMain } = await load<typeof import("./initctl.ts")>("./initctl.ts");
      return initctlMain([command, ...rest], command);
    }
    case "check-config": {
      const { checkConfigMain } = await load<typeof import("./check_config.ts")>(
        "./check_config.ts",
      );
      return checkConfigMain(rest);
    }
    case "show-config": {
      const { showConfigMain } = await load<typeof import("./show_config.ts")>("./show_config.ts");
      return showConfigMain(rest);
    }
    case "run": {
      const { runMain } = await load<typeof import("./run.ts")>("./run.ts");
      return runMain(rest);
    }
    case "export": {
      const { exportMain } = await load<typeof import("./export.ts")>("./export.ts");
      return exportMain(rest);
    }
    case "install":
    case "uninstall": {
      const { installMain } = await load<typeof import("./install.ts")>("./install.ts");
      return installMain(command, rest);
    }
    case "upgrade": {
      const { upgradeMain } = await load<typeof import("./upgrade.ts")>("./upgrade.ts");
      return upgradeMain(rest);
    }
    case "watchdog": {
      const { watchdogMain } = await load<typeof import("./watchdog.ts")>("./watchdog.ts");
      return watchdogMain(rest);
    }
    case "logs": {
      const { logsMain } = await load<typeof import("./logs.ts")>("./logs.ts");
      return logsMain(rest);
    }
    case "doctor": {
      const { doctorMain } = await load<typeof import("./doctor.ts")>("./doctor.ts");
      return doctorMain(rest);
    }
    default:
      return usageError("upkeep", `unknown command '${command}'`);
  }
}
