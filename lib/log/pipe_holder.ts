/**
 * Keeps every log pipe open while no daemon does. A pipe's contents live only as long as some
 * process holds it open: if the daemon died (kill -9) and then a job ended, what the job wrote
 * last would go with it. So one small process, `sleep` started with every FIFO open on fds 3, 4, ...
 * (posix_spawn file actions; in its own session; without the UPSTART_JOB marker, so no daemon
 * takes it for a job's leftover), holds them all. When the set of pipes changes, a new holder is
 * started first and the old one stopped after: some process holds each pipe at all times. Its pid
 * and start time are kept in STATE_DIR/logs/holder.pid for the next daemon, which stops it once
 * it has opened the pipes itself and started its own.
 */

import { spawnProcess } from "../process/fast_spawn.ts";
import { readProcStat } from "../process/proc.ts";
import { getNofile } from "../process/fast_spawn.ts";

const HOLD_SECONDS = "2147483647";
/**
 * A new holder is started once the set of pipes has not changed for this long (ms), for every
 * change made meanwhile: start-up opens a pipe per job over many turns, and a holder per turn
 * would open every pipe again each time (quadratic in the number of jobs).
 */
const SETTLE_MS = 50;
/**
 * ... but no later than this (ms) after the first change not held yet: a start-up of 1,000 jobs
 * changes the set for more than a second. (A holder every SETTLE_MS through it, as before, took
 * 20 holders and ~100 ms of the daemon's time.)
 */
const MAX_UNHELD_MS = 1000;
/** At most this many pipes per holder process (each needs one fd). */
const PER_HOLDER = 1000;

interface Held {
  readonly pid: number;
  readonly start: number;
}

function alive(h: Held): boolean {
  const st = readProcStat(h.pid);
  return st !== null && st.startTime === h.start && st.state !== "Z";
}

/**
 * How long (ms) to wait still before starting a new holder, or 0 to start it now: the set of pipes
 * first changed at `firstChange` since the last holder, and last changed at `lastChange`. Pure.
 */
export function holderDelay(now: number, firstChange: number, lastChange: number): number {
  const quietFor = now - lastChange;
  const unheldFor = now - firstChange;
  if (quietFor >= SETTLE_MS || unheldFor >= MAX_UNHELD_MS) return 0;
  return Math.max(1, Math.min(SETTLE_MS - quietFor, MAX_UNHELD_MS - unheldFor));
}

export class PipeHolder {
  #current: Held[] = [];
  #previous: Held[] = [];
  #scheduled = false;
  #stopped = false;
  /** When the set last changed, and when it first changed since the last holder (ms). */
  #lastChange = 0;
  #firstChange = 0;
  readonly #file: string;

  constructor(
    readonly dir: string,
    private readonly paths: () => string[],
    private readonly log: (message: string) => void,
  ) {
    this.#file = `${dir}/holder.pid`;
    try {
      for (const line of Deno.readTextFileSync(this.#file).split("\n")) {
        const [pid, start] = line.split(" ").map(Number);
        if (pid && start !== undefined && Number.isFinite(start)) {
          this.#previous.push({ pid, start });
        }
      }
    } catch { /* none */ }
  }

  /** The set of pipes changed: start a new holder once it settles (SETTLE_MS, MAX_UNHELD_MS). */
  refresh(): void {
    if (this.#stopped) return;
    this.#lastChange = performance.now();
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#firstChange = this.#lastChange;
    this.#wait(SETTLE_MS);
  }

  #wait(ms: number): void {
    setTimeout(() => {
      if (this.#stopped) return;
      const delay = holderDelay(performance.now(), this.#firstChange, this.#lastChange);
      if (delay > 0) return this.#wait(delay);
      this.#scheduled = false;
      this.#respawn();
    }, ms);
  }

  #respawn(): void {
    const paths = this.paths();
    const started: Held[] = [];
    for (let i = 0; i < paths.length; i += PER_HOLDER) {
      const chunk = paths.slice(i, i + PER_HOLDER);
      try {
        const limit = getNofile();
        const want = chunk.length + 16;
        const nofile = limit && want > limit.soft ? Math.min(want, limit.hard) : null;
        const { pid, start } = spawnProcess({
          argv: ["sleep", HOLD_SECONDS],
          env: { PATH: "/usr/bin:/bin:/usr/sbin:/sbin", UPKEEP_PIPE_HOLDER: this.dir },
          cwd: "/",
          stdout: "null",
          stderr: "null",
          helper: false,
        }, { output: "null", nofileSoft: nofile, holdFifos: chunk });
        // The spawn's own start time when it knows it (reading /proc waits out the child's exec).
        started.push({ pid, start: start ?? readProcStat(pid)?.startTime ?? 0 });
      } catch (e) {
        // Without a holder the pipes still work; only a job ending while no daemon runs would
        // lose its last unread output.
        this.log(`cannot start the log pipe holder: ${e instanceof Error ? e.message : e}`);
        for (const h of started) this.#kill(h);
        return;
      }
    }
    const old = [...this.#current, ...this.#previous];
    this.#current = started;
    this.#previous = [];
    this.#save();
    for (const h of old) this.#kill(h);
  }

  #kill(h: Held): void {
    if (!alive(h)) return;
    try {
      Deno.kill(h.pid, "SIGKILL");
    } catch { /* gone */ }
  }

  #save(): void {
    const text = this.#current.map((h) => `${h.pid} ${h.start}\n`).join("");
    try {
      if (text) Deno.writeTextFileSync(this.#file, text, { mode: 0o600 });
      else Deno.removeSync(this.#file);
    } catch { /* next time */ }
  }

  /** Daemon exit with every pipe drained: no holder is needed any more. */
  stop(): void {
    this.#stopped = true;
    for (const h of [...this.#current, ...this.#previous]) this.#kill(h);
    this.#current = [];
    this.#previous = [];
    this.#save();
  }
}
