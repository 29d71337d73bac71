/**
 * Subcommand dispatch: `upkeep SUBCOMMAND ...` for every subcommand but initctl and its shortcuts
 * and the job set-up helper, which main.ts routes itself. Each subcommand's module is imported
 * lazily.
 */

import { load, quietSignalsSoon } from "./lazy.ts";

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

/** Print a one-line usage error and return exit status 2. */
export function usageError(program: string, message: string): number {
  console.error(`${program}: ${message} (try '${program} --help')`);
  return 2;
}

export async function dispatch(args: string[]): Promise<number> {
  quietSignalsSoon();
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
      const { daemonRuntimeDue, ensureDaemonRuntime } = await load<
        typeof import("../process/self_exec.ts")
      >("../process/self_exec.ts");
      // A first start of these sources: Deno transpiles the daemon's modules here, before the
      // exec, and what it keeps of them goes with this process (lib/process/module_cache.ts).
      // Their top-level code runs here too, so it must stay free of side effects (it is: only
      // constants, classes and functions).
      if (daemonRuntimeDue()) {
        const { noteTranspiled, untranspiled } = await load<
          typeof import("../process/module_cache.ts")
        >("../process/module_cache.ts");
        // compiled-safe: only under `deno run` (a compiled binary never execs for its runtime).
        const daemonModule = new URL("./daemon.ts", import.meta.url);
        // compiled-safe: as above.
        if (untranspiled(daemonModule, new URL(import.meta.url))) {
          await load<typeof import("./daemon.ts")>("./daemon.ts");
          noteTranspiled(daemonModule);
        }
      }
      ensureDaemonRuntime();
      const { daemonMain } = await load<typeof import("./daemon.ts")>("./daemon.ts");
      return daemonMain(rest);
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
