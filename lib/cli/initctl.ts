/**
 * `upkeep initctl COMMAND ...` (and `start`/`stop`/`restart`/`reload`/`status` by name): parse the
 * arguments as Upstart's initctl does (initctl_args.ts), send one request to the daemon, print its
 * answer: stdout for output, `PROGRAM: message` on stderr and exit 1 for errors. Kept small so
 * that a status command starts fast; the daemon formats every line.
 */

import { ConnectError, daemonAnswers, sendRequest, TimeoutError } from "../control/client.ts";
import { PROTOCOL_VERSION } from "../control/protocol.ts";
import { checkArguments, DEFAULT_TIMEOUT_S, parseInitctlArgs } from "./initctl_args.ts";
// Loaded already (main.ts imports it); its `load` reads the help, the version and the default
// socket lookup only when a command needs them.
import { load } from "./dispatch.ts";

/**
 * Run initctl. `argv` starts with the command; invoked as a shortcut (`program` is `start`, `stop`
 * ...), argv[0] is that command and the rest are its arguments and options.
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
  const env = (name: string) => Deno.env.get(name);
  const problem = checkArguments(p, env);
  if (problem) return usage(problem);
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

async function defaultSocket(): Promise<string> {
  const m = await load<typeof import("./default_socket.ts")>("./default_socket.ts");
  return m.defaultSocket();
}

/** `text` and a newline on stdout, all of it (console.log's first use costs ~0.4 ms more). */
function printLine(text: string): void {
  const bytes = new TextEncoder().encode(`${text}\n`);
  for (let off = 0; off < bytes.length;) off += Deno.stdout.writeSync(bytes.subarray(off));
}
