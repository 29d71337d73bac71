/**
 * Where an install puts things, as the booted system sees them (no `--root` prefix): the binary,
 * the daemon's conf, state and log dirs and socket, and the install manifest. `rooted()` maps such
 * a path into the tree that `--root DIR` names. Pure: no Deno APIs.
 */

export interface InstallPaths {
  /** `--prefix`: `/usr/local` for the system, `~/.local` for `--user`. */
  readonly prefix: string;
  /** The upkeep binary (or launcher): `PREFIX/sbin/upkeep` (`PREFIX/bin/upkeep` for `--user`). */
  readonly binary: string;
  readonly confDir: string;
  readonly stateDir: string;
  readonly logDir: string;
  readonly socket: string;
  /** The record of what install added, read by uninstall and doctor. */
  readonly manifest: string;
}

/** The Upstart command names that get a symlink to the binary. */
export const LINK_NAMES = ["initctl", "start", "stop", "status", "restart", "reload"] as const;

/** Paths of the system-wide install (the daemon's defaults as root). */
export function systemPaths(prefix = "/usr/local"): InstallPaths {
  const p = trimSlash(prefix);
  return {
    prefix: p,
    binary: `${p}/sbin/upkeep`,
    confDir: "/etc/init",
    stateDir: "/run/upkeep",
    logDir: "/var/log/upkeep",
    socket: "/run/upkeep/upkeep.sock",
    manifest: "/var/lib/upkeep/install-manifest.json",
  };
}

/**
 * Paths of a per-user install (`--user`). Everything lives under the home directory, because the
 * daemon is started by cron at boot, before the user has a session (and so an `XDG_RUNTIME_DIR`).
 */
export function userPaths(
  home: string,
  env: { XDG_CONFIG_HOME?: string; XDG_STATE_HOME?: string } = {},
  prefix?: string,
): InstallPaths {
  const h = trimSlash(home);
  const p = trimSlash(prefix ?? `${h}/.local`);
  const config = trimSlash(env.XDG_CONFIG_HOME || `${h}/.config`);
  const state = `${trimSlash(env.XDG_STATE_HOME || `${h}/.local/state`)}/upkeep`;
  return {
    prefix: p,
    binary: `${p}/bin/upkeep`,
    confDir: `${config}/upkeep/init`,
    stateDir: `${state}/run`,
    logDir: `${state}/log`,
    socket: `${state}/run/upkeep.sock`,
    manifest: `${state}/install-manifest.json`,
  };
}

/** Override the daemon paths given on the command line. */
export function withOverrides(
  paths: InstallPaths,
  o: { confDir?: string; stateDir?: string; logDir?: string; socket?: string },
): InstallPaths {
  const stateDir = o.stateDir ? trimSlash(o.stateDir) : paths.stateDir;
  return {
    ...paths,
    confDir: o.confDir ? trimSlash(o.confDir) : paths.confDir,
    stateDir,
    logDir: o.logDir ? trimSlash(o.logDir) : paths.logDir,
    socket: o.socket ?? (o.stateDir ? `${stateDir}/upkeep.sock` : paths.socket),
  };
}

/** `path` (absolute, as the booted system sees it) inside the tree rooted at `root`. */
export function rooted(root: string, path: string): string {
  const r = trimSlash(root);
  return r === "" ? path : `${r}${path}`;
}

/** The directory part of an absolute path. */
export function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

function trimSlash(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, "") : p === "/" ? "" : p;
}
