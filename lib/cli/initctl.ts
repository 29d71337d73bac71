/**
 * `upkeep initctl COMMAND …` (and `start`/`stop`/`restart`/`reload`/`status` by name): parse the
 * arguments as Upstart's initctl does (initctl_args.ts), send one request to the daemon, print its
 * answer: stdout for output, `PROGRAM: message` on stderr and exit 1 for errors. Kept small so
 * that a status command starts fast; the daemon formats every line.
 */

import { ConnectError, daemonAnswers, sendRequest, TimeoutError } from "../control/client.ts";
import { PROTOCOL_VERSION } from "../control/protocol.ts";
import { VERSION } from "../version.ts";
import { checkArguments, parseInitctlArgs } from "./initctl_args.ts";
import { defaultPaths } from "./paths.ts";

/** Seconds of silence after which initctl gives up on the daemon. */
export const DEFAULT_TIMEOUT_S = 15;

const HELP = `Usage: initctl [OPTION]... COMMAND [OPTION]... [ARG]...

Job commands:
  start JOB [KEY=VALUE]...     start a job (-n, --no-wait: do not wait for it)
  stop JOB [KEY=VALUE]...      stop a job (-n, --no-wait)
  restart JOB [KEY=VALUE]...   restart a job (-n, --no-wait)
  reload JOB [KEY=VALUE]...    send the job's reload signal to its main process
  status JOB [KEY=VALUE]...    show a job's status (--json: as JSON; --json alone: every job)
  list                         list every job and instance (--json: as JSON)

Event commands:
  emit EVENT [KEY=VALUE]...    emit an event and wait until it is handled (-n, --no-wait)

Environment commands (inside a job they act on its own environment unless -g, --global):
  get-env VARIABLE             print a variable of the job environment
  set-env VARIABLE[=VALUE]     set a variable (-r, --retain: keep a value already set)
  unset-env VARIABLE           remove a variable
  list-env                     print every variable, sorted
  reset-env                    back to the daemon's initial environment

Other commands:
  reload-configuration         re-read the job files
  version                      show the daemon's version
  log-priority [PRIORITY]      show or set the daemon's log priority
  show-config [-e] [JOB]       show emits, start on and stop on of one job or every job
  check-config [JOB]           list conditions no job or event can satisfy (-i LIST, -w)
  usage JOB                    show a job's usage text
  reexec                       restart the daemon in place, every job kept (telinit u)
  help                         show this help

Options (before the command; the command's own options come after it):
  --socket PATH   the daemon's control socket (default: $UPKEEP_SOCKET, else the daemon's default)
  --timeout SECS  give up when the daemon says nothing for SECS seconds (default ${DEFAULT_TIMEOUT_S};
                  0: wait for ever; a daemon waiting for a job says so every 5 s)
  -q, --quiet     no output on success
  -v, --verbose   accepted, no effect
  --help          show this help
  --version       show initctl's version`;

/**
 * Run initctl. `argv` starts with the command; invoked as a shortcut (`program` is `start`, `stop`
 * …), argv[0] is that command and the rest are its arguments and options.
 */
export async function initctlMain(argv: string[], program: string): Promise<number> {
  const fail = (message: string, code = 1) => {
    console.error(`${program}: ${message}`);
    return code;
  };
  const usage = (message: string) => {
    console.error(`${program}: ${message}\nTry \`${program} --help' for more information.`);
    return 1;
  };
  const shortcut = program !== "initctl";
  const result = parseInitctlArgs(shortcut ? argv.slice(1) : argv, program);
  if (result.kind === "usage") return usage(result.message);
  if (result.kind === "print") {
    console.log(
      result.what === "help" ? HELP : `${program} (upkeep ${VERSION}; upstart 1.13.2 compatible)`,
    );
    return 0;
  }
  const p = result.parsed;
  const env = (name: string) => Deno.env.get(name);
  const problem = checkArguments(p, env);
  if (problem) return usage(problem);
  const socket = p.socket ?? (Deno.env.get("UPKEEP_SOCKET") || defaultSocket());
  const timeoutS = p.timeoutS ?? DEFAULT_TIMEOUT_S;
  try {
    const request = { v: PROTOCOL_VERSION, cmd: p.command, args: p.args, options: p.options };
    const reply = await sendRequest(socket, request, timeoutS * 1000);
    if (!reply.ok) return fail(reply.error, reply.code || 1);
    // get-env prints its value even when it is empty (one empty line), as Upstart does.
    if ((reply.out !== "" || p.command === "get-env") && !p.quiet) console.log(reply.out);
    if (p.command === "reexec" && !(await daemonAnswers(socket, 30_000))) {
      return fail(`upkeep did not answer again on ${socket} within 30 s after re-exec`);
    }
    // check-config prints its report on stdout and exits 1 when there is one (as Upstart: every
    // unsatisfiable condition it counts is a line it prints).
    return p.command === "check-config" && reply.out !== "" ? 1 : 0;
  } catch (e) {
    if (e instanceof ConnectError) return fail(`Unable to connect to upkeep: ${e.message}`);
    if (e instanceof TimeoutError) {
      return fail(
        `${e.message} on ${socket}: it may be stalled or overloaded ` +
          `(--timeout SECONDS waits longer; 0 waits for ever)`,
      );
    }
    return fail(e instanceof Error ? e.message : String(e));
  }
}

/**
 * The socket to use without --socket or UPKEEP_SOCKET: the user's own daemon when there is one,
 * else the system daemon's (so every user's plain `initctl status` reaches /run/upkeep).
 */
export function defaultSocket(
  own = ownSocket(),
  exists: (path: string) => boolean = socketExists,
): string {
  if (own === SYSTEM_SOCKET || exists(own) || !exists(SYSTEM_SOCKET)) return own;
  return SYSTEM_SOCKET;
}

export const SYSTEM_SOCKET = "/run/upkeep/upkeep.sock";

/** The socket of this user's own daemon by default (the system one for a user without a home). */
function ownSocket(): string {
  try {
    return defaultPaths().socket;
  } catch {
    return SYSTEM_SOCKET;
  }
}

function socketExists(path: string): boolean {
  try {
    return Deno.statSync(path).isSocket === true;
  } catch {
    return false;
  }
}
