/**
 * `upkeep initctl COMMAND …` (and `start`/`stop`/`restart`/`reload`/`status` by name): parse the
 * arguments as Upstart's initctl does, send one request to the daemon, print its answer. Kept small
 * so that a status command starts fast; the daemon formats every line.
 */

import { ConnectError, daemonAnswers, sendRequest, TimeoutError } from "../control/client.ts";
import { PROTOCOL_VERSION, type RequestOptions } from "../control/protocol.ts";
import { defaultPaths } from "./paths.ts";

/** Seconds of silence after which initctl gives up on the daemon. */
export const DEFAULT_TIMEOUT_S = 15;

const HELP = `Usage: initctl [OPTION]... COMMAND [OPTION]... [ARG]...

Commands:
  start JOB [KEY=VALUE]...     start a job (-n/--no-wait: do not wait)
  stop JOB [KEY=VALUE]...      stop a job
  restart JOB [KEY=VALUE]...   restart a job
  reload JOB [KEY=VALUE]...    send the job's reload signal
  status [JOB [KEY=VALUE]...]  show a job's status (every job without JOB; --json)
  list                         list every job and instance (--json)
  emit EVENT [KEY=VALUE]...    emit an event (-n/--no-wait)
  reload-configuration         re-read the job files
  show-config [-e] [JOB]...    show start on / stop on / emits
  check-config [JOB]...        check for unreachable conditions (-i LIST, -w)
  usage JOB                    show a job's usage text
  log-priority [LEVEL]         get or set the daemon's log priority
  list-env, get-env VAR, set-env VAR[=VALUE] (-r), unset-env VAR, reset-env   job environment
  version                      show the daemon's version
  reexec                       restart the daemon in place, every job kept (telinit u)

Options:
  --socket PATH   the daemon's control socket (default: $UPKEEP_SOCKET, else the daemon's default)
  --timeout SECS  give up when the daemon says nothing for SECS seconds (default ${DEFAULT_TIMEOUT_S};
                  0: wait for ever; a daemon waiting for a job says so every 5 s)
  -q, --quiet     no output on success
  --help          show this help`;

const JOB_COMMANDS = new Set(["start", "stop", "restart", "reload", "status"]);
const KNOWN = new Set([
  ...JOB_COMMANDS,
  "list",
  "emit",
  "reload-configuration",
  "show-config",
  "check-config",
  "usage",
  "log-priority",
  "list-env",
  "get-env",
  "set-env",
  "unset-env",
  "reset-env",
  "version",
  "reexec",
]);

export async function initctlMain(argv: string[], program: string): Promise<number> {
  const fail = (message: string, code = 1) => {
    console.error(`${program}: ${message}`);
    return code;
  };
  const usage = (message: string) => {
    console.error(`${program}: ${message}\nTry \`${program} --help' for more information.`);
    return 1;
  };
  let socket = Deno.env.get("UPKEEP_SOCKET") ?? "";
  let quiet = false;
  let timeoutS = DEFAULT_TIMEOUT_S;
  const positional: string[] = [];
  const options: { -readonly [K in keyof RequestOptions]: RequestOptions[K] } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-" || (positional.length > 0 && /^[^-]/.test(a))) {
      positional.push(a);
      continue;
    }
    const [flag, inline] = a.startsWith("--") && a.includes("=")
      ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
      : [a, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case "--socket": {
        const v = value();
        if (!v) return usage("option '--socket' needs a path");
        socket = v;
        break;
      }
      case "--timeout": {
        const v = value();
        if (!v || !/^\d+(\.\d+)?$/.test(v)) return usage("option '--timeout' needs seconds");
        timeoutS = Number(v);
        break;
      }
      case "-h":
      case "--help":
        console.log(HELP);
        return 0;
      case "-q":
      case "--quiet":
        quiet = true;
        break;
      case "-v":
      case "--verbose":
      case "--system":
      case "--no-dbus":
        break;
      case "-n":
      case "--no-wait":
        options.noWait = true;
        break;
      case "--json":
        options.json = true;
        break;
      case "-e":
      case "--enumerate":
        options.enumerate = true;
        break;
      case "-g":
      case "--global":
        options.global = true;
        break;
      case "-r":
      case "--retain":
        options.retain = true;
        break;
      case "-w":
      case "--warn":
        options.warn = true;
        break;
      case "-i":
      case "--ignore-events": {
        const v = value();
        if (!v) return usage("option '--ignore-events' needs a list");
        options.ignoreEvents = v.split(",").filter(Boolean);
        break;
      }
      case "-j":
      case "--job": {
        const v = value();
        if (!v) return usage("option '--job' needs a job name");
        options.job = v;
        break;
      }
      default:
        return usage(`unrecognized option '${a}'`);
    }
  }
  const [cmd, ...args] = positional;
  if (!cmd) return usage("missing command");
  if (!KNOWN.has(cmd)) return usage(`invalid command: ${cmd}`);
  if (JOB_COMMANDS.has(cmd) && args.length === 0) {
    const job = Deno.env.get("UPSTART_JOB");
    if (job) {
      options.self = { job, instance: Deno.env.get("UPSTART_INSTANCE") ?? "" };
    } else if (cmd !== "status") {
      return usage("missing job name");
    }
  }
  if (cmd === "emit" && args.length === 0) return usage("missing event name");
  if (["get-env", "set-env", "unset-env"].includes(cmd) && args.length === 0) {
    return usage("missing variable name");
  }
  if (cmd === "usage" && args.length === 0) return usage("missing job name");
  if (!socket) socket = defaultSocket();
  try {
    const request = { v: PROTOCOL_VERSION, cmd, args, options };
    const reply = await sendRequest(socket, request, timeoutS * 1000);
    if (!reply.ok) return fail(reply.error, reply.code || 1);
    if (reply.out && !quiet) console.log(reply.out);
    if (cmd === "reexec" && !(await daemonAnswers(socket, 30_000))) {
      return fail(`upkeep did not answer again on ${socket} within 30 s after re-exec`);
    }
    return 0;
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
