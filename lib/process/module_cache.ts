/**
 * Whether `deno run` has transpiled a module of this tree yet, read from Deno's own cache of
 * transpiled modules (DENO_DIR/gen/file/PATH.js). The daemon's launcher asks it about the daemon
 * before it execs itself (lib/cli/dispatch.ts): on a first start of these sources (a clone, a copy,
 * an upgrade) Deno transpiles every module it loads and keeps what it parsed for 10 s; the
 * allocator keeps that memory after, about 9 MB of the daemon's for good (1-job PSS 28.4-28.8 MB
 * against 19.1-19.5). Loaded by the launcher instead, all that goes with the exec.
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

/** The path of a file: URL. */
function filePath(url: URL): string {
  return decodeURIComponent(url.pathname);
}

/** Where Deno keeps the transpiled copy of the module at file: URL `url`. */
function transpiledPath(dir: string, url: URL): string {
  return `${dir}/gen/file${filePath(url)}.js`;
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
  if (mtime(transpiledPath(dir, running)) === null) return false;
  const source = mtime(filePath(module));
  const copy = mtime(transpiledPath(dir, module));
  return source !== null && (copy === null || copy < source);
}

/**
 * Deno has just loaded `module`: its transpiled copy is current, whatever its time says (Deno
 * checks a hash of the source, and leaves a copy it finds current as it is). Its time is brought
 * up to now (or to the source's, if that is later), so that a source touched but not changed (a
 * checkout back and forth) is not taken for untranspiled at every start. Only a regular file is
 * touched, never through a symbolic link; nothing when it cannot be done (a cache not ours).
 */
export function noteTranspiled(
  module: URL,
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): void {
  const dir = denoDir(env);
  if (dir === null || module.protocol !== "file:") return;
  const copy = transpiledPath(dir, module);
  const at = new Date(Math.max(Date.now(), mtime(filePath(module)) ?? 0));
  try {
    if (Deno.lstatSync(copy).isFile) Deno.utimeSync(copy, at, at);
  } catch { /* not there, or not ours */ }
}
