/**
 * `upkeep run`'s engine (the edge): takes the lock, runs pre-start, main and post-stop of a job in
 * the foreground with a deadline, forwards SIGTERM/SIGINT/SIGHUP to the job's process group,
 * retries with back-off, and reports. Each process runs in its own session and process group;
 * stopping it signals the whole group and SIGKILLs it after the kill timeout, so nothing is left.
 */

import type { JobClass, ProcessKind } from "../job/model.ts";
import { type FileLock, lockFileWait, tryLockFile } from "../process/ffi.ts";
import { type HelperCommand, planProcess } from "../process/plan.ts";
import { processGroupMembers } from "../process/proc.ts";
import { killProcessGroup, type RunningProcess, spawnPlan } from "../process/spawn.ts";
import { loadUserDb, type UserDb, userDbForJob } from "../process/users.ts";
import { OutputSink } from "./output.ts";
import {
  type AttemptEnd,
  attemptExitCode,
  EXIT_CANNOT_EXECUTE,
  EXIT_LOCKED,
  EXIT_NOT_FOUND,
  retryDelay,
  succeeded,
  summaryJson,
  summaryLine,
} from "./summary.ts";

export interface RunJobInput {
  readonly job: JobClass;
  /** The command that runs upkeep's set-up helper (user, limits, chroot... without other tools). */
  readonly helper: HelperCommand;
  /** The environment every process gets (the caller builds it). */
  readonly env: Readonly<Record<string, string>>;
  /** Exact argv of the COMMAND form (replaces the job's main exec). */
  readonly command: readonly string[] | null;
  readonly timeout: number | null;
  readonly killSignal: string;
  readonly killTimeout: number;
  readonly lockPath: string | null;
  readonly waitLock: boolean;
  readonly retries: number;
  readonly retryDelay: number;
  readonly logPath: string | null;
  /** Copy output to stdout live. */
  readonly live: boolean;
  /** Drop output entirely (console none without --log). */
  readonly discard: boolean;
  readonly quietSuccess: boolean;
  readonly json: boolean;
}

const FORWARDED: Deno.Signal[] = ["SIGTERM", "SIGINT", "SIGHUP"];
/** How long to keep reading output after the process exits while others in its group hold it. */
const OUTPUT_GRACE_MS = 2000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const eprint = (line: string) => console.error(line);

/** Signal the process group, then SIGKILL it if anything is left after the kill timeout. */
async function stopGroup(
  p: RunningProcess,
  signal: string,
  killTimeoutS: number,
  exited: () => boolean,
): Promise<void> {
  killProcessGroup(p.pid, signal);
  const deadline = performance.now() + killTimeoutS * 1000;
  while (performance.now() < deadline) {
    if (exited() && processGroupMembers(p.pid).length === 0) return;
    await sleep(Math.min(25, Math.max(1, deadline - performance.now())));
  }
  killProcessGroup(p.pid, "KILL");
}

class Attempt {
  current: { p: RunningProcess; exited: boolean; stopping: Promise<void> | null } | null = null;
  interrupted: string | null = null;

  constructor(readonly input: RunJobInput, readonly users: UserDb, readonly sink: OutputSink) {}

  /** Forward a signal we received to the running process group (the job decides what it means). */
  interrupt(signal: string): void {
    this.interrupted ??= signal;
    this.#stop(signal);
  }

  #stop(signal: string): void {
    const cur = this.current;
    if (!cur || cur.stopping) return;
    const done = () => cur.exited;
    cur.stopping = stopGroup(cur.p, signal, this.input.killTimeout, done);
  }

  /** Run one process of the job to its end; `deadline` is a performance.now() value or null. */
  async runProcess(kind: ProcessKind, tryNo: number, deadline: number | null): Promise<AttemptEnd> {
    const { input } = this;
    const planned = planProcess({
      job: input.job,
      kind,
      env: { ...input.env, UPKEEP_RUN_TRY: String(tryNo) },
      logFile: null,
      users: userDbForJob(input.job, () => this.users),
      daemonUmask: Deno.umask(),
      helper: input.helper,
      output: "pipe",
      ...(kind === "main" && input.command ? { command: input.command } : {}),
    });
    if ("error" in planned) {
      return { kind: "spawnFailed", message: planned.error, code: EXIT_CANNOT_EXECUTE };
    }
    let p: RunningProcess;
    try {
      p = spawnPlan(planned.plan);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const code = /not ?found|No such file/i.test(message) ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE;
      return { kind: "spawnFailed", message, code };
    }
    const cur = { p, exited: false, stopping: null as Promise<void> | null };
    this.current = cur;
    const pumping = input.discard ? p.stdout!.cancel() : this.sink.pump(p.stdout!);
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (deadline !== null) {
      timer = setTimeout(() => {
        timedOut = true;
        this.#stop(input.killSignal);
      }, Math.max(0, deadline - performance.now()));
    }
    if (this.interrupted) this.#stop(this.interrupted);
    const status = await p.exited;
    cur.exited = true;
    clearTimeout(timer);
    let grace: ReturnType<typeof setTimeout> | undefined;
    const ended = await Promise.race([
      pumping.then(() => true),
      new Promise<boolean>((r) => grace = setTimeout(() => r(false), OUTPUT_GRACE_MS)),
    ]);
    clearTimeout(grace);
    if (!ended) {
      this.sink.note(
        `processes left in group ${p.pid} still hold the output; not waiting for them`,
      );
      await p.stdout!.cancel().catch(() => {});
      await pumping;
    }
    await cur.stopping;
    this.current = null;
    if (timedOut) return { kind: "timeout" };
    if (this.interrupted) return { kind: "interrupted", signal: this.interrupted };
    return { kind: "exited", status };
  }

  /** pre-start, then main (if pre-start succeeded), then post-stop (always, if defined). */
  async run(tryNo: number): Promise<AttemptEnd> {
    const { job, timeout, command } = this.input;
    const deadline = () => timeout === null ? null : performance.now() + timeout * 1000;
    const start = deadline();
    let end: AttemptEnd = { kind: "exited", status: { code: 0, signal: null } };
    if (job.preStart) end = await this.runProcess("preStart", tryNo, start);
    if (succeeded(end) && !this.interrupted && (job.main || command)) {
      end = await this.runProcess("main", tryNo, start);
    }
    if (job.postStop && !this.interrupted) {
      const post = await this.runProcess("postStop", tryNo, deadline());
      if (succeeded(end) && !succeeded(post)) end = post;
    }
    return end;
  }
}

function ensureDir(path: string, mode: number): void {
  const dir = path.slice(0, path.lastIndexOf("/"));
  if (dir) Deno.mkdirSync(dir, { recursive: true, mode });
}

async function takeLock(
  input: RunJobInput,
  interrupted: Promise<string>,
): Promise<FileLock | { code: number }> {
  const path = input.lockPath!;
  ensureDir(path, 0o700);
  const shared = /^\/tmp\/upkeep-\d+/.exec(path)?.[0];
  if (shared && Deno.lstatSync(shared).uid !== Deno.uid()) {
    eprint(`${input.job.name}: ${shared} belongs to another user; use --lock FILE`);
    return { code: 1 };
  }
  const lock = tryLockFile(path, false);
  if (lock) return lock;
  if (!input.waitLock) {
    eprint(`${input.job.name}: skipped, a previous run still holds ${path}`);
    return { code: EXIT_LOCKED };
  }
  const got = await Promise.race([lockFileWait(path), interrupted]);
  if (typeof got === "string") {
    return { code: attemptExitCode({ kind: "interrupted", signal: got }) };
  }
  return got;
}

/** Run the job as `upkeep run` does; resolves to the exit status for the caller to exit with. */
export async function runJob(input: RunJobInput): Promise<number> {
  const started = performance.now();
  let attempt: Attempt | null = null;
  let onSignal!: (sig: string) => void;
  const interrupted = new Promise<string>((r) => onSignal = r);
  const handlers = FORWARDED.map((sig) => {
    const h = () => {
      const name = sig.slice(3);
      onSignal(name);
      attempt?.interrupt(name);
    };
    Deno.addSignalListener(sig, h);
    return () => Deno.removeSignalListener(sig, h);
  });
  let lock: FileLock | null = null;
  let log: Deno.FsFile | null = null;
  try {
    if (input.lockPath) {
      const got = await takeLock(input, interrupted);
      if ("code" in got) return got.code;
      lock = got;
    }
    if (input.logPath) {
      try {
        ensureDir(input.logPath, 0o755);
        log = Deno.openSync(input.logPath, { append: true, create: true });
      } catch (e) {
        eprint(`${input.job.name}: cannot open log file ${input.logPath}: ${(e as Error).message}`);
        return 1;
      }
    }
    const sink = new OutputSink({
      log: input.discard ? null : log,
      live: input.live && !input.quietSuccess && !input.discard,
      buffer: input.quietSuccess && !input.discard,
    });
    attempt = new Attempt(input, loadUserDb(), sink);
    let end: AttemptEnd = { kind: "exited", status: { code: 0, signal: null } };
    let tries = 0;
    for (;;) {
      tries++;
      sink.note(`${input.job.name}: try ${tries} of ${input.retries + 1} started`);
      end = await attempt.run(tries);
      if (attempt.interrupted) end = { kind: "interrupted", signal: attempt.interrupted };
      if (succeeded(end) || end.kind === "interrupted" || tries > input.retries) break;
      const delay = retryDelay(input.retryDelay, tries);
      sink.note(
        `${input.job.name}: try ${tries} failed (exit ${
          attemptExitCode(end)
        }), retrying in ${delay} s`,
      );
      const sig = await Promise.race([sleep(delay * 1000).then(() => null), interrupted]);
      if (sig) {
        end = { kind: "interrupted", signal: sig };
        break;
      }
    }
    const summary = {
      job: input.job.name,
      end,
      tries,
      seconds: (performance.now() - started) / 1000,
      log: log ? input.logPath : null,
    };
    sink.note(summaryLine(summary));
    const ok = succeeded(end);
    if (!ok && input.quietSuccess) sink.printBuffered();
    if (!ok || !input.quietSuccess) {
      eprint(input.json ? summaryJson(summary) : summaryLine(summary));
    }
    return attemptExitCode(end);
  } finally {
    for (const remove of handlers) remove();
    log?.close();
    lock?.release();
  }
}
