/**
 * The `initctl`, `start`, `stop`, `restart`, `reload` and `status` commands put on the PATH of
 * every job process: small scripts that run this very upkeep (the compiled binary, or this source
 * with this deno), talking to the daemon that runs the job (UPKEEP_SOCKET is in the job's env).
 */

import { isCompiled, selfArgv } from "../install/build_info.ts";
import { type HelperCommand, shellQuote } from "../process/plan.ts";
import { BUILD_COMPILED } from "../version.ts";

export const SHIM_NAMES = ["initctl", "start", "stop", "restart", "reload", "status"] as const;

/** The command that runs this upkeep: the compiled binary, or `deno run -A main.ts`. */
export function selfCommand(): string[] {
  const exe = Deno.execPath();
  return selfArgv(isCompiled(BUILD_COMPILED, exe), exe, Deno.mainModule);
}

/**
 * The command that runs upkeep's set-up helper (`exec-job`): this upkeep, with only what Deno
 * itself needs from our environment (its cache, under `deno run`); the job's environment is
 * handed to the helper separately and given to the job's program alone.
 */
export function helperCommand(
  env: Readonly<Record<string, string>> = Deno.env.toObject(),
): HelperCommand {
  const helperEnv: Record<string, string> = {
    UPKEEP_ARGV0: "upkeep",
    NO_COLOR: "1",
    DENO_NO_UPDATE_CHECK: "1",
  };
  for (const k of ["DENO_DIR", "HOME", "XDG_CACHE_HOME"]) {
    if (env[k] !== undefined) helperEnv[k] = env[k];
  }
  return { argv: selfCommand(), env: helperEnv };
}

/** Write the shims into `dir` (created); returns `dir`. */
export function writeShims(dir: string): string {
  Deno.mkdirSync(dir, { recursive: true });
  const cmd = selfCommand().map(shellQuote).join(" ");
  for (const name of SHIM_NAMES) {
    const path = `${dir}/${name}`;
    const text = `#!/bin/sh\nUPKEEP_ARGV0=${name} DENO_NO_UPDATE_CHECK=1 exec ${cmd} "$@"\n`;
    let current = "";
    try {
      current = Deno.readTextFileSync(path);
    } catch { /* new */ }
    if (current !== text) {
      Deno.writeTextFileSync(`${path}.tmp`, text, { mode: 0o755 });
      Deno.renameSync(`${path}.tmp`, path);
    }
    Deno.chmodSync(path, 0o755);
  }
  return dir;
}
