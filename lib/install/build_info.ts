/**
 * Build facts: how scripts/compile.ts bakes the git revision into a copy of lib/version.ts, and how
 * upkeep finds the command that runs itself (the compiled binary, or this deno running main.ts).
 * Pure: no Deno APIs; callers pass `Deno.execPath()` and `Deno.mainModule` in.
 */

/** Rewrite the `BUILD_*` constants of lib/version.ts's text; throws when a line is missing. */
export function bakeBuildInfo(versionTs: string, revision: string): string {
  const rev = /^export const BUILD_REVISION = "[^"]*";$/m;
  const compiled = /^export const BUILD_COMPILED = (true|false);$/m;
  if (!rev.test(versionTs) || !compiled.test(versionTs)) {
    throw new Error("lib/version.ts no longer has the BUILD_REVISION / BUILD_COMPILED lines");
  }
  return versionTs
    .replace(rev, `export const BUILD_REVISION = ${JSON.stringify(revision)};`)
    .replace(compiled, "export const BUILD_COMPILED = true;");
}

/**
 * Whether this process is a compiled upkeep binary: baked in by scripts/compile.ts, or (for a
 * binary built by hand with `deno compile`) an executable that is not named `deno`.
 */
export function isCompiled(bakedCompiled: boolean, execPath: string): boolean {
  if (bakedCompiled) return true;
  const base = execPath.slice(execPath.lastIndexOf("/") + 1);
  return !/^deno(\.exe)?$/.test(base);
}

/**
 * The argv that runs this upkeep again: `[binary]` when compiled, else
 * `[deno, "run", "-A", "--quiet", "--no-config", main.ts]` (main.ts from `Deno.mainModule`, a
 * file: URL). This is the command of the set-up helper, of the shims jobs call (`start`, `stop`
 * ...), of the boot service and of the watchdog. `--no-config`: nothing the program runs needs
 * deno.json or deno.lock (their import map serves a test), and reading them costs every start
 * about 1 ms (an empty script in the checkout, 400 interleaved runs each way).
 */
export function selfArgv(compiled: boolean, execPath: string, mainModule: string): string[] {
  if (compiled) return [execPath];
  const url = new URL(mainModule);
  if (url.protocol !== "file:") throw new Error(`cannot run upkeep from ${mainModule}`);
  return [execPath, "run", "-A", "--quiet", "--no-config", decodeURIComponent(url.pathname)];
}
