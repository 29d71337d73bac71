/**
 * Whether `deno run` has transpiled a module of this tree yet, read from Deno's own cache of
 * transpiled modules (DENO_DIR/gen/file/PATH.js). The daemon's launcher asks it about the daemon
 * before it execs itself (lib/cli/dispatch.ts): on a first start of these sources (a clone, a copy,
 * an upgrade) Deno transpiles every module it loads and keeps what it parsed for 10 s, about 10 MB
 * of the daemon's memory. Loaded by the launcher instead, all that goes with the exec.
 *
 * The layout is Deno's, not a promise: when the running module's own transpiled copy is not where
 * it is looked for (another Deno, another cache), the answer is "transpiled", and the daemon does
 * the work itself as it always could.
 */

/** Deno's cache directory on Linux: DENO_DIR, else $XDG_CACHE_HOME/deno or ~/.cache/deno. */
function denoDir(env: (name: string) => string | undefined): string | null {
  const explicit = env("DENO_DIR");
  if (explicit) return explicit;
  const cache = env("XDG_CACHE_HOME") || (env("HOME") ? `${env("HOME")}/.cache` : "");
  return cache ? `${cache}/deno` : null;
}

/** Modification time (ms) of `path`, or null when it cannot be read. */
function mtime(path: string): number | null {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? null;
  } catch {
    return null;
  }
}

/**
 * True when `module` (a file: URL) has no transpiled copy in Deno's cache as new as its source,
 * while `running` (a file: URL of a module running now, hence transpiled) has one: the cache is
 * where this looks, and `module` has not been transpiled since it last changed.
 */
export function untranspiled(
  module: URL,
  running: URL,
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): boolean {
  if (module.protocol !== "file:" || running.protocol !== "file:") return false;
  const dir = denoDir(env);
  if (dir === null) return false;
  const cached = (url: URL) => `${dir}/gen/file${decodeURIComponent(url.pathname)}.js`;
  if (mtime(cached(running)) === null) return false;
  const source = mtime(decodeURIComponent(module.pathname));
  const copy = mtime(cached(module));
  return source !== null && (copy === null || copy < source);
}
