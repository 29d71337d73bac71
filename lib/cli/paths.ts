/**
 * Default locations: as root `/etc/init`, `/run/upkeep`, `/var/log/upkeep`,
 * `/run/upkeep/upkeep.sock`; as another user the XDG directories, so anyone can supervise their
 * own jobs.
 */

export interface DaemonPaths {
  readonly confDirs: string[];
  readonly stateDir: string;
  readonly logDir: string;
  readonly socket: string;
}

export function defaultPaths(
  env: (k: string) => string | undefined = (k) => Deno.env.get(k),
): DaemonPaths {
  const uid = Deno.uid();
  if (uid === 0 || uid === null) {
    return {
      confDirs: ["/etc/init"],
      stateDir: "/run/upkeep",
      logDir: "/var/log/upkeep",
      socket: "/run/upkeep/upkeep.sock",
    };
  }
  const home = env("HOME") ?? `/tmp/upkeep-${uid}`;
  const config = env("XDG_CONFIG_HOME") ?? `${home}/.config`;
  const state = env("XDG_STATE_HOME") ?? `${home}/.local/state`;
  const runtime = env("XDG_RUNTIME_DIR");
  const stateDir = runtime ? `${runtime}/upkeep` : `${state}/upkeep/run`;
  return {
    confDirs: [`${config}/upkeep/init`],
    stateDir,
    logDir: `${state}/upkeep/log`,
    socket: `${stateDir}/upkeep.sock`,
  };
}
