/**
 * Fork following for `expect fork` and `expect daemon`, the way Upstart does it: by ptrace, not by
 * guessing. The job's main process is started as `/bin/sh -c 'kill -STOP $$ && exec "$@"' ...`: it
 * stops itself before exec'ing the job's program, we seize it (PTRACE_SEIZE with
 * PTRACE_O_TRACEFORK|TRACEEXEC: vforks are not followed, as in Upstart) and let it go on. Every fork of the followed process is
 * then reported before the child runs: the child becomes the new main process (`forked`), the
 * parent is let go; after the expected number of forks (1 for `fork`, 2 for `daemon`) the last
 * child is let go too and is the daemon (as in Upstart, so is a child that execs before it forks
 * again). Nothing depends on the job's environment (daemons that
 * rewrite it, as redis and sshd do, are followed all the same) nor on timing (a daemon may take
 * seconds between its forks).
 *
 * While a process is traced, every signal sent to it stops it first; the follower passes each one
 * on at once. Tracing lasts from the spawn until the expected forks happened (or the traced
 * process ended), usually a few milliseconds.
 *
 * Driven by the caller: `follow` a freshly spawned pid, and `poll` after every SIGCHLD. No timers
 * (the fork timeout is the state machine's), no I/O but the TraceSys calls.
 */

import type { ExitStatus } from "./spawn.ts";
import { PTRACE_EVENT, type TraceSys } from "./ptrace.ts";

/** The wrapper that makes a process stop itself before exec'ing the job's command. */
export const FOLLOW_WRAPPER = ["/bin/sh", "-c", 'kill -STOP $$ && exec "$@"', "upkeep-follow"];

const SIGSTOP = 19, SIGCONT = 18;

export interface FollowHandlers {
  /** The followed process forked: `pid` is the main process now; `final` once it is the daemon. */
  forked(pid: number, final: boolean): void;
  /**
   * Tracing could not start (ptrace refused: the system's words). The process has been let go
   * untraced; the caller falls back to following by the process tree.
   */
  untraced(error: string): void;
  /** A followed child (not the spawned process itself) ended while it was traced. */
  exited(pid: number, status: ExitStatus): void;
}

interface Follow {
  readonly root: number;
  readonly forksWanted: number;
  readonly handlers: FollowHandlers;
  seized: boolean;
  forks: number;
  /** The process whose next fork counts. */
  current: number;
  /** The daemon, to be let go at its first stop. */
  final: number | null;
  /** Over: every process still traced for it is let go at its next stop. */
  ended: boolean;
}

export class ForkFollower {
  /** Every pid being traced (or awaiting its self-stop), to its follow. */
  readonly #traced = new Map<number, Follow>();

  constructor(private readonly sys: TraceSys) {}

  /** Follow `root`, just spawned under FOLLOW_WRAPPER, through `forks` forks. */
  follow(root: number, forks: number, handlers: FollowHandlers): void {
    const f: Follow = {
      root,
      forksWanted: Math.max(1, forks),
      handlers,
      seized: false,
      forks: 0,
      current: root,
      final: null,
      ended: false,
    };
    this.#traced.set(root, f);
  }

  /** True while `pid` is traced here: its wait statuses are the follower's to collect. */
  has(pid: number): boolean {
    return this.#traced.has(pid);
  }

  /** How many processes are traced now (0 when no fork following is under way). */
  get size(): number {
    return this.#traced.size;
  }

  /**
   * Collect and act on every pending stop of traced processes. Returns the exits of spawned
   * processes (roots, our own children) that ended while traced, for the caller's exit path.
   */
  poll(): { pid: number; status: ExitStatus }[] {
    const rootExits: { pid: number; status: ExitStatus }[] = [];
    // Each pass may add a pid (a fork's child); bounded: a pass with nothing to do ends it.
    for (let pass = 0; pass < 64; pass++) {
      let progress = false;
      for (const [pid, f] of [...this.#traced]) {
        const r = this.sys.wait(pid);
        if (r === null) continue;
        progress = true;
        if (r.kind === "exited") {
          this.#traced.delete(pid);
          if (pid === f.root) rootExits.push({ pid, status: r.status });
          else f.handlers.exited(pid, r.status);
          if (pid === f.current) this.#end(f);
          continue;
        }
        this.#stopped(pid, f, r.signal, r.event);
      }
      if (!progress) break;
    }
    return rootExits;
  }

  #stopped(pid: number, f: Follow, signal: number, event: number): void {
    const sys = this.sys;
    if (!f.seized) {
      // The wrapper's own SIGSTOP, before exec: take hold of it, then let it run on.
      const error = sys.seize(pid);
      if (error !== null) {
        this.#traced.delete(pid);
        sys.kill(pid, SIGCONT);
        f.handlers.untraced(error);
        return;
      }
      f.seized = true;
      sys.kill(pid, SIGCONT);
      return;
    }
    if (event === PTRACE_EVENT.fork) {
      const child = sys.forkedPid(pid);
      if (pid !== f.current || child <= 0) return sys.cont(pid, 0);
      // The parent is of no more interest: let it go (it usually exits now).
      this.#traced.delete(pid);
      sys.detach(pid, 0);
      f.forks += 1;
      f.current = child;
      const final = f.forks >= f.forksWanted;
      if (final) f.final = child;
      this.#traced.set(child, f);
      f.handlers.forked(child, final);
      return;
    }
    if (event === PTRACE_EVENT.exec && pid === f.current && f.forks > 0 && f.final === null) {
      // Upstart's rule: a followed child that execs before it forks again is the daemon
      // (`expect daemon` whose first child runs another program).
      this.#traced.delete(pid);
      sys.detach(pid, 0);
      f.final = pid;
      this.#end(f);
      f.handlers.forked(pid, true);
      return;
    }
    if (pid === f.final || f.ended) {
      // The daemon's first stop (or a leftover of an ended follow): let it go, delivering what
      // stopped it unless that is the stop of a fresh tracee.
      this.#traced.delete(pid);
      sys.detach(pid, event === 0 && signal !== SIGSTOP ? signal : 0);
      if (pid === f.final) this.#end(f);
      return;
    }
    // An exec, a group stop, or a signal on its way: deliver the signal (if any) and go on.
    sys.cont(pid, event === 0 ? signal : 0);
  }

  /**
   * The follow is over. A tracee can only be let go while it is stopped, so whatever is still
   * traced for it is let go at its next stop (see #stopped).
   */
  #end(f: Follow): void {
    f.ended = true;
  }

  /** Stop following everything (the daemon is about to exit or exec). */
  detachAll(): void {
    for (const [pid, f] of [...this.#traced]) {
      this.#traced.delete(pid);
      if (f.seized) this.sys.detach(pid, 0);
      else this.sys.kill(pid, SIGCONT);
    }
  }
}
