/**
 * Default locations: as root `/etc/init`, `/run/upkeep`, `/var/log/upkeep`,
 * `/run/upkeep/upkeep.sock`; as another user the XDG directories under the user's home (HOME, else
 * the home in /etc/passwd), so anyone can supervise their own jobs. Never a shared, guessable
 * path such as `/tmp/upkeep-UID`, which another user could create first: without a home, the
 * caller must name its directories.
 */

import { parsePasswd } from "../process/users.ts";

export interface DaemonPaths {
  readonly confDirs: string[];
  readonly stateDir: string;
  readonly logDir: string;
  readonly socket: string;
}

/** The home directory of `uid` in /etc/passwd, or null. */
export function passwdHome(uid: number, passwd?: string): string | null {
  let text = passwd;
  if (text === undefined) {
    try {
      text = Deno.readTextFileSync("/etc/passwd");
    } catch {
      return null;
    }
  }
  const home = parsePasswd(text).find((u) => u.uid === uid)?.home;
  return home && home.startsWith("/") ? home : null;
}

export function defaultPaths(
  env: (k: string) => string | undefined = (k) => Deno.env.get(k),
  uid: number | null = Deno.uid(),
  home: (uid: number) => string | null = (u) => passwdHome(u),
): DaemonPaths {
  if (uid === 0 || uid === null) {
    return {
      confDirs: ["/etc/init"],
      stateDir: "/run/upkeep",
      logDir: "/var/log/upkeep",
      socket: "/run/upkeep/upkeep.sock",
    };
  }
  const abs = (p: string | undefined) => p && p.startsWith("/") ? p : undefined;
  const dir = abs(env("HOME")) ?? home(uid);
  const config = abs(env("XDG_CONFIG_HOME")) ?? (dir && `${dir}/.config`);
  const state = abs(env("XDG_STATE_HOME")) ?? (dir && `${dir}/.local/state`);
  const runtime = abs(env("XDG_RUNTIME_DIR"));
  if (!config || !state) {
    throw new Error(
      `no home directory for uid ${uid} (HOME is not set and /etc/passwd has none): ` +
        "name the directories with --conf-dir, --state-dir and --log-dir",
    );
  }
  const stateDir = runtime ? `${runtime}/upkeep` : `${state}/upkeep/run`;
  return {
    confDirs: [`${config}/upkeep/init`],
    stateDir,
    logDir: `${state}/upkeep/log`,
    socket: `${stateDir}/upkeep.sock`,
  };
}
