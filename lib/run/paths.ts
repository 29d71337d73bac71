/**
 * Where `upkeep run` keeps its lock and log files by default. Pure: the environment and uid are
 * passed in.
 *
 * Locks: `/run/upkeep/locks` as root; otherwise `$XDG_RUNTIME_DIR/upkeep/locks`, or
 * `/tmp/upkeep-UID/locks` without it. Logs: `/var/log/upkeep` as root; otherwise
 * `$XDG_STATE_HOME/upkeep/log` or `~/.local/state/upkeep/log`.
 */

export interface PathContext {
  readonly uid: number;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** A job name as a file name: every `/` becomes `_` (as Upstart names log files). */
export function fileSafeName(name: string): string {
  return name.replaceAll("/", "_");
}

export function defaultLockDir(ctx: PathContext): string {
  if (ctx.uid === 0) return "/run/upkeep/locks";
  const runtime = ctx.env.XDG_RUNTIME_DIR;
  return runtime ? `${runtime}/upkeep/locks` : `/tmp/upkeep-${ctx.uid}/locks`;
}

export function defaultLogDir(ctx: PathContext): string {
  if (ctx.uid === 0) return "/var/log/upkeep";
  const state = ctx.env.XDG_STATE_HOME;
  if (state) return `${state}/upkeep/log`;
  return `${ctx.env.HOME ?? `/tmp/upkeep-${ctx.uid}`}/.local/state/upkeep/log`;
}

export function lockPathFor(name: string, ctx: PathContext): string {
  return `${defaultLockDir(ctx)}/${fileSafeName(name)}.lock`;
}

export function logPathFor(name: string, ctx: PathContext, logDir: string | null): string {
  return `${logDir ?? defaultLogDir(ctx)}/${fileSafeName(name)}.log`;
}
