/**
 * upkeep: an Upstart-compatible process supervisor. The one entry point: it picks the subcommand
 * (or the command named by argv[0], as Upstart's `start`/`stop`/`status` symlinks do) and loads
 * only the module that runs it. initctl and its shortcuts, the commands scripts run most and that
 * must start fastest, go straight to lib/cli/initctl.ts; the job set-up helper (`exec-job`) to
 * lib/process/exec_job.ts, importing nothing else; every other subcommand through
 * lib/cli/dispatch.ts.
 */

import { load } from "./lib/cli/lazy.ts";

/** Upstart's shortcut commands: invoked by name (or as `upkeep NAME`), they act as `initctl NAME`. */
const SHORTCUTS: readonly string[] = ["start", "stop", "restart", "reload", "status"];

async function main(args: string[]): Promise<number> {
  if (args[0] === "exec-job") {
    const { execJobMain } = await load<typeof import("./lib/process/exec_job.ts")>(
      "../process/exec_job.ts",
    );
    return execJobMain(args.slice(1));
  }
  const name = invokedName();
  const initctl = name === "initctl" || SHORTCUTS.includes(name)
    ? { argv: name === "initctl" ? args : [name, ...args], program: name }
    : args[0] === "initctl"
    ? { argv: args.slice(1), program: "initctl" }
    : SHORTCUTS.includes(args[0] ?? "")
    ? { argv: args, program: args[0]! }
    : null;
  if (initctl) {
    const { initctlMain } = await load<typeof import("./lib/cli/initctl.ts")>("./initctl.ts");
    return initctlMain(initctl.argv, initctl.program);
  }
  const { dispatch } = await load<typeof import("./lib/cli/dispatch.ts")>("./dispatch.ts");
  return dispatch(args);
}

/**
 * The name this program was invoked as: basename of argv[0] (or `UPKEEP_ARGV0` from a launcher).
 * Under `deno run`, argv[0] is Deno itself (launchers and shims set UPKEEP_ARGV0): only a compiled
 * binary is read from /proc (about 0.15 ms of every start).
 */
function invokedName(): string {
  const fromLauncher = Deno.env.get("UPKEEP_ARGV0");
  if (fromLauncher) return fromLauncher;
  if (!Deno.build.standalone) return "upkeep";
  try {
    const cmdline = Deno.readTextFileSync("/proc/self/cmdline");
    const argv0 = cmdline.split("\0")[0] ?? "";
    return argv0.slice(argv0.lastIndexOf("/") + 1);
  } catch {
    return "upkeep";
  }
}

if (import.meta.main) {
  const code = await main(Deno.args);
  Deno.exit(code);
}
