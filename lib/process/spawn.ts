/**
 * The process edge of `upkeep run`: runs a ProcessPlan with Deno.Command (`detached: true`, so
 * every process leads its own session and process group; a pipe for its output), and sends
 * signals to processes and process groups. The daemon spawns through fast_spawn.ts instead.
 * Errors from spawn (missing program, bad cwd) are thrown as plain `Error`s; set-up failures
 * (user, limits, chroot...) are the helper's: one line on the output and exit status 126/127.
 */

import type { ProcessPlan } from "./plan.ts";
import { signalName, signalNumber } from "./signals.ts";
import { sendSignal } from "./ffi.ts";
import { denoChildren } from "./deno_children.ts";

/** How a process ended: an exit code, or the signal (name without `SIG`) that killed it. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: string | null;
}

export interface RunningProcess {
  readonly pid: number;
  readonly exited: Promise<ExitStatus>;
  /** Only for plans with `stdout: "piped"` (stderr merged in by the plan's wrapper). */
  readonly stdout?: ReadableStream<Uint8Array>;
  readonly stderr?: ReadableStream<Uint8Array>;
}

function toExitStatus(s: Deno.CommandStatus): ExitStatus {
  if (s.signal !== null) {
    const n = signalNumber(String(s.signal));
    return {
      code: null,
      signal: n === null ? String(s.signal).replace(/^SIG/, "") : signalName(n),
    };
  }
  return { code: s.code, signal: null };
}

/** Start the plan's process. Throws `Error(message)` when it cannot be spawned. */
export function spawnPlan(plan: ProcessPlan): RunningProcess {
  const [program, ...args] = plan.argv;
  if (program === undefined) throw new Error("empty command");
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args,
      env: { ...plan.env },
      clearEnv: true,
      cwd: plan.cwd,
      stdin: plan.stdin === undefined ? "null" : "piped",
      stdout: plan.stdout,
      stderr: plan.stderr,
      detached: true,
    }).spawn();
  } catch (e) {
    throw new Error(e instanceof Error ? e.message : String(e));
  }
  if (plan.stdin !== undefined) feed(child.stdin, plan.stdin);
  // Deno reaps it: a daemon's reaping (process_port.ts) must leave it alone until then.
  const pid = child.pid;
  denoChildren.add(pid);
  const exited = child.status.then(toExitStatus).finally(() => denoChildren.delete(pid));
  return {
    pid,
    exited,
    ...(plan.stdout === "piped" ? { stdout: child.stdout } : {}),
    ...(plan.stderr === "piped" ? { stderr: child.stderr } : {}),
  };
}

/** Write `bytes` to a child's stdin and close it (a child that is gone already is no error). */
function feed(stdin: WritableStream<Uint8Array>, bytes: Uint8Array): void {
  const w = stdin.getWriter();
  w.write(bytes).then(() => w.close()).catch(() => {}).finally(() => {
    try {
      w.releaseLock();
    } catch { /* released */ }
  });
}

function send(target: number, signal: string): boolean {
  const n = signalNumber(signal);
  if (n === null) throw new Error(`unknown signal '${signal}'`);
  return sendSignal(target, n); // by number: real-time signals (`kill signal 34`) too
}

/** Send `signal` (`TERM`, `SIGTERM`, `15`) to every process of a group; false if none is left. */
export function killProcessGroup(pgid: number, signal: string): boolean {
  if (pgid <= 1) throw new Error(`refusing to signal process group ${pgid}`);
  return send(-pgid, signal);
}

/** Send `signal` to one process; false if it is gone. */
export function killProcess(pid: number, signal: string): boolean {
  if (pid <= 0) throw new Error(`refusing to signal pid ${pid}`);
  return send(pid, signal);
}
