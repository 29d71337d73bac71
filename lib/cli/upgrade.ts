/**
 * `upkeep upgrade NEW-BINARY`: move the running daemon to a new upkeep program without stopping
 * or starting any job. NEW-BINARY must run (`NEW-BINARY --version` answers within 10 s) before
 * the daemon is asked to re-exec into it (`initctl reexec NEW-BINARY`); then this waits until the
 * daemon answers again and says which version it is now.
 */

import { daemonAnswers, sendRequest } from "../control/client.ts";
import { PROTOCOL_VERSION } from "../control/protocol.ts";
import { usageError } from "./dispatch.ts";
import { defaultSocket } from "./default_socket.ts";

const HELP = `Usage: upkeep upgrade [--socket PATH] NEW-BINARY

Hand the running daemon over to NEW-BINARY (a compiled upkeep) in place: the daemon keeps its
pid, every job keeps running. NEW-BINARY must answer --version first.`;

async function ask(socket: string, cmd: string, args: string[] = []): Promise<string> {
  const r = await sendRequest(socket, { v: PROTOCOL_VERSION, cmd, args, options: {} }, 15_000);
  if (!r.ok) throw new Error(r.error);
  return r.out;
}

export async function upgradeMain(argv: string[]): Promise<number> {
  let socket = Deno.env.get("UPKEEP_SOCKET") ?? "";
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-h" || a === "--help") {
      console.log(HELP);
      return 0;
    }
    if (a === "--socket") socket = argv[++i] ?? "";
    else if (a.startsWith("--socket=")) socket = a.slice("--socket=".length);
    else if (a.startsWith("-")) return usageError("upkeep upgrade", `unknown option '${a}'`);
    else rest.push(a);
  }
  if (rest.length !== 1) return usageError("upkeep upgrade", "give exactly one NEW-BINARY");
  const program = rest[0]!.startsWith("/") ? rest[0]! : `${Deno.cwd()}/${rest[0]}`;
  if (!socket) socket = defaultSocket();

  // 1. The new program must run at all.
  let version: string;
  try {
    const out = await new Deno.Command(program, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(10_000),
    }).output();
    version = new TextDecoder().decode(out.stdout).trim();
    if (!out.success || !version) {
      console.error(
        `upkeep upgrade: ${program} --version failed (exit ${out.code}): ` +
          new TextDecoder().decode(out.stderr).trim(),
      );
      return 1;
    }
  } catch (e) {
    console.error(`upkeep upgrade: cannot run ${program}: ${e instanceof Error ? e.message : e}`);
    return 1;
  }

  // 2. Hand over, 3. see it answer.
  try {
    const before = await ask(socket, "version");
    await ask(socket, "reexec", [program]);
    if (!(await daemonAnswers(socket, 30_000))) {
      console.error(`upkeep upgrade: the daemon did not answer again on ${socket} within 30 s`);
      return 1;
    }
    const after = await ask(socket, "version");
    console.log(`upkeep upgraded: ${before} -> ${after} (${version})`);
    return 0;
  } catch (e) {
    console.error(`upkeep upgrade: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
}
