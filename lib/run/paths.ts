/**
 * Where `upkeep run` keeps its lock and log files by default. Pure: the environment and uid are
 * passed in.
 *
 * Locks: `/run/upkeep/locks` as root; otherwise `$XDG_RUNTIME_DIR/upkeep/locks`, or
 * `$XDG_STATE_HOME/upkeep/locks` (`~/.local/state/upkeep/locks`) without it. Logs:
 * `/var/log/upkeep` as root; otherwise `$XDG_STATE_HOME/upkeep/log` or `~/.local/state/upkeep/log`.
 * Never a shared, guessable `/tmp` path (another user could create it first): without a home,
 * NoHomeError says to name the file.
 */

export class NoHomeError extends Error {}

export interface PathContext {
  readonly uid: number;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** A job name as a file name: every `/` becomes `_` (as Upstart names log files). */
export function fileSafeName(name: string): string {
  return name.replaceAll("/", "_");
}

/** `$XDG_STATE_HOME/upkeep` or `~/.local/state/upkeep`; NoHomeError without either. */
function stateDir(ctx: PathContext, what: string): string {
  const state = ctx.env.XDG_STATE_HOME;
  if (state?.startsWith("/")) return `${state}/upkeep`;
  const home = ctx.env.HOME;
  if (home?.startsWith("/")) return `${home}/.local/state/upkeep`;
  throw new NoHomeError(`no home directory for uid ${ctx.uid} (HOME is not set): ${what}`);
}

export function defaultLockDir(ctx: PathContext): string {
  if (ctx.uid === 0) return "/run/upkeep/locks";
  const runtime = ctx.env.XDG_RUNTIME_DIR;
  return runtime ? `${runtime}/upkeep/locks` : `${stateDir(ctx, "give --lock-file")}/locks`;
}

export function defaultLogDir(ctx: PathContext): string {
  if (ctx.uid === 0) return "/var/log/upkeep";
  return `${stateDir(ctx, "give --log, --log-dir or --no-log")}/log`;
}

export function lockPathFor(name: string, ctx: PathContext): string {
  return `${defaultLockDir(ctx)}/${fileSafeName(name)}.lock`;
}

export function logPathFor(name: string, ctx: PathContext, logDir: string | null): string {
  return `${logDir ?? defaultLogDir(ctx)}/${fileSafeName(name)}.log`;
}
