/**
 * The modules upkeep loads on demand, and the loader. main.ts, dispatch.ts and initctl.ts import a
 * subcommand's module (or a rarely needed part, such as initctl's help) only when it runs, through
 * `load`. Also here: quietSignalsSoon, which every command that may run for long arms. Kept small:
 * `initctl status` loads it.
 */

/**
 * The modules loaded on demand, relative to this file. They are imported through a computed
 * specifier (`load`): `deno run` then reads each only when it is needed (a literal
 * `import("./x.ts")` makes it read and parse every one of them at start-up, ~9 ms for
 * `initctl status`), and scripts/compile.ts embeds each with `--include`.
 */
export const LAZY_MODULES = [
  "../version.ts",
  "../process/exec_job.ts",
  "../process/module_cache.ts",
  "../process/quiet_signals.ts",
  "../process/self_exec.ts",
  "./check_config.ts",
  "./daemon.ts",
  "./default_socket.ts",
  "./dispatch.ts",
  "./doctor.ts",
  "./export.ts",
  "./initctl.ts",
  "./initctl_args.ts",
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

/** See quietSignalsSoon. */
const QUIET_AFTER_MS = 250;

/**
 * Make SIGUSR1 and SIGALRM harmless in a command that runs for a while (`initctl start` waits for
 * its job, the watchdog for the daemon): under `deno run`, Deno starts its own SIGUSR1 listener,
 * which opens a V8 inspector, 500 ms after start (lib/process/quiet_signals.ts). A command done
 * sooner never loads the module. `daemon`, `run` and `logs` also do it themselves, at once (then
 * this finds it done).
 */
export function quietSignalsSoon(): void {
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
