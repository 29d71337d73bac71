/**
 * Starting an upkeep daemon for the measurement scripts: `deno run` of a tree's main.ts (this one
 * by default) on a set of directories, in the foreground, its output discarded.
 */

/** Where the daemon finds its jobs and keeps its state, logs and socket. */
export interface DaemonDirs {
  readonly conf: string;
  readonly state: string;
  readonly log: string;
  readonly socket: string;
}

/** This tree, without a trailing slash. */
export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** `daemon` and its directory options. */
export function daemonArgs(d: DaemonDirs): string[] {
  return [
    "daemon",
    "--conf-dir",
    d.conf,
    "--state-dir",
    d.state,
    "--log-dir",
    d.log,
    "--socket",
    d.socket,
  ];
}

/** Start the daemon of tree `root` (`denoFlags` before `-A`: `--v8-flags=…`, say). */
export function startDaemon(
  d: DaemonDirs,
  opts: { root?: string; denoFlags?: string[] } = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...(opts.denoFlags ?? []),
      "-A",
      "--quiet",
      `${opts.root ?? ROOT}/main.ts`,
      ...daemonArgs(d),
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}
