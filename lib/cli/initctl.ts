/**
 * `upkeep initctl COMMAND ...` (and `start`/`stop`/`restart`/`reload`/`status` by name): parse the
 * arguments as Upstart's initctl does (the common command lines here, quickParse; the rest with
 * initctl_args.ts, loaded only then), send one request to the daemon, print its answer: stdout for
 * output, `PROGRAM: message` on stderr and exit 1 for errors. Kept small so that a status command
 * starts fast; the daemon formats every line.
 */

import { ConnectError, daemonAnswers, sendRequest, TimeoutError } from "../control/client.ts";
import { PROTOCOL_VERSION } from "../control/protocol.ts";
import type { Parsed } from "./initctl_args.ts";
// Loaded already (main.ts imports it); its `load` reads the full argument parser, the help, the
// version and the default socket lookup only when a command needs them.
import { load, quietSignalsSoon } from "./lazy.ts";

/** Seconds of silence after which initctl gives up on the daemon. */
export const DEFAULT_TIMEOUT_S = 15;

/**
 * Run initctl. `argv` starts with the command; invoked as a shortcut (`program` is `start`, `stop`
 * ...), argv[0] is that command and the rest are its arguments and options.
 */
export async function initctlMain(argv: string[], program: string): Promise<number> {
  const fail = (message: string, code = 1) => {
    console.error(`${program}: ${message}`);
    return code;
  };
  quietSignalsSoon();
  const p = quickParse(argv, program) ?? await fullParse(argv, program);
  if (typeof p === "number") return p;
  const socket = p.socket ?? (Deno.env.get("UPKEEP_SOCKET") || await defaultSocket());
  const timeoutS = p.timeoutS ?? DEFAULT_TIMEOUT_S;
  try {
    const request = { v: PROTOCOL_VERSION, cmd: p.command, args: p.args, options: p.options };
    const reply = await sendRequest(socket, request, timeoutS * 1000);
    if (!reply.ok) return fail(reply.error, reply.code || 1);
    // get-env prints its value even when it is empty (one empty line), as Upstart does.
    if ((reply.out !== "" || p.command === "get-env") && !p.quiet) printLine(reply.out);
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
 * Parse with initctl_args.ts (every option, help, version, usage errors, the checks Upstart makes
 * before it talks to init): the command to run, or the exit status once help, the version or a
 * usage error is printed.
 */
async function fullParse(argv: string[], program: string): Promise<Parsed | number> {
  const usage = (message: string) => {
    console.error(`${program}: ${message}\nTry \`${program} --help' for more information.`);
    return 1;
  };
  const { checkArguments, parseInitctlArgs } = await load<typeof import("./initctl_args.ts")>(
    "./initctl_args.ts",
  );
  const shortcut = program !== "initctl";
  const result = parseInitctlArgs(shortcut ? argv.slice(1) : argv, program);
  if (result.kind === "usage") return usage(result.message);
  if (result.kind === "print") {
    if (result.what === "version") {
      const { VERSION } = await load<typeof import("../version.ts")>("../version.ts");
      console.log(`${program} (upkeep ${VERSION}; upstart 1.13.2 compatible)`);
      return 0;
    }
    const { commandHelp, HELP } = await load<typeof import("./initctl_help.ts")>(
      "./initctl_help.ts",
    );
    console.log(result.command ? commandHelp(result.command, program) : HELP);
    return 0;
  }
  const p = result.parsed;
  const problem = checkArguments(p, (name) => Deno.env.get(name));
  return problem ? usage(problem) : p;
}

/** Commands quickParse reads: `list`, and those that take a job or event name first. */
const QUICK_COMMANDS: readonly string[] = [
  "start",
  "stop",
  "restart",
  "reload",
  "status",
  "emit",
  "list",
];

/**
 * The command lines scripts and people type most, parsed without loading initctl_args.ts (which
 * costs an `initctl status` about a millisecond): `start`, `stop`, `restart`, `reload`, `status`
 * and `emit` with their names and arguments, and `list`; `-q`, `--socket PATH`, `--timeout SECS`,
 * `-n` (start, stop, restart, emit) and `--json` (status, list). Anything else is null and goes to the full parser:
 * other commands, other options, `--`, an option whose value looks like an option, a missing job
 * or event name (that one depends on the environment). tests/unit/cli/initctl_quick_test.ts checks
 * that whatever this parses, parseInitctlArgs and checkArguments parse the same way.
 */
export function quickParse(argv: readonly string[], program: string): Parsed | null {
  const p: Parsed = { command: "", args: [], options: {}, quiet: false, socket: null };
  let i = 0;
  if (program === "initctl") {
    for (; i < argv.length && p.command === ""; i++) {
      const a = argv[i]!;
      if (!a.startsWith("-")) p.command = a;
      else if (!quickOption(argv, i, p)) return null;
      else if (a === "--socket" || a === "--timeout") i++;
    }
  } else {
    p.command = program;
    i = 1;
  }
  if (!QUICK_COMMANDS.includes(p.command)) return null;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("-")) p.args.push(a);
    else if (a === "-n" || a === "--no-wait") {
      if (p.command === "reload" || p.command === "status" || p.command === "list") return null;
      p.options.noWait = true;
    } else if (a === "--json" && (p.command === "status" || p.command === "list")) {
      p.options.json = true;
    } else if (!quickOption(argv, i, p)) return null;
    else if (a === "--socket" || a === "--timeout") i++;
  }
  return p.args.length > 0 || p.command === "list" ? p : null;
}

/** One of the options every command takes (quickParse), applied to `p`; false if it is another. */
function quickOption(argv: readonly string[], i: number, p: Parsed): boolean {
  const a = argv[i]!;
  if (a === "-q" || a === "--quiet") return p.quiet = true;
  const eq = a.indexOf("=");
  const name = eq < 0 ? a : a.slice(0, eq);
  const value = eq < 0 ? argv[i + 1] : a.slice(eq + 1);
  if (value === undefined || value === "" || value.startsWith("-")) return false;
  if (name === "--socket") p.socket = value;
  else if (name === "--timeout" && /^\d+(\.\d+)?$/.test(value)) p.timeoutS = Number(value);
  else return false;
  return true;
}

async function defaultSocket(): Promise<string> {
  const m = await load<typeof import("./default_socket.ts")>("./default_socket.ts");
  return m.defaultSocket();
}

/** `text` and a newline on stdout, all of it (console.log's first use costs ~0.4 ms more). */
function printLine(text: string): void {
  const bytes = new TextEncoder().encode(`${text}\n`);
  for (let off = 0; off < bytes.length;) off += Deno.stdout.writeSync(bytes.subarray(off));
}
