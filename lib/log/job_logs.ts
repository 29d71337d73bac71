/**
 * The daemon's job-output pipeline: one InstanceLog per `console log` instance, keyed by its log
 * file name (`web.log`, `worker-2.log`), all waited on by one Poller. The supervisor calls
 * `attach(job, instance)` before each spawn and gets the FIFO its process writes to; `started` and
 * `ended` put markers in; `detach` when the instance is gone. Everything an instance's log needs
 * is found again from its name alone: the FIFO (NAME.fifo in the FIFO directory, STATE_DIR/logs or
 * a private one on tmpfs: see fifo_dir.ts; it holds what was written
 * while no daemon read), the log file (its size is the offset) and, for line-mode logs, the spool
 * and its record. So after a re-exec or a kill -9 of the daemon, `recover()` (before anything
 * stops leftover processes) and `attach` take up every pipe again, losing and repeating nothing.
 */

import type { JobClass } from "../job/model.ts";
import type { LogLevel } from "../supervisor/instance.ts";
import type { LogView } from "../supervisor/status.ts";
import { logFileName } from "../supervisor/environment.ts";
import { c, lib } from "./libc.ts";
import { Poller } from "./poller.ts";
import { InstanceLog, type InstanceLogHooks, type LogFailure } from "./instance_log.ts";
import { type LogSettings, resolveLogSettings } from "./settings.ts";
import { PipeHolder } from "./pipe_holder.ts";
import { descriptorShortage } from "./fd_headroom.ts";
import { TurnBudget } from "./turn_budget.ts";

export interface JobLogsOptions {
  readonly logDir: string;
  /** Private directory (0700) for the spools and the pipe holder's record: STATE_DIR/logs. */
  readonly pipeDir: string;
  /** Private directory (0700) for the FIFOs, on tmpfs if possible (fifo_dir.ts); pipeDir if not given. */
  readonly fifoDir?: string;
  /** The daemon's defaults (flags). */
  readonly defaults: LogSettings;
  /** The daemon log. */
  readonly log: (message: string, level?: LogLevel, job?: string) => void;
  /** Told when output is being moved (the daemon's idle GC). */
  readonly onActivity?: () => void;
}

const FIFO_SUFFIX = ".fifo";
/**
 * Pipes of instances that are gone, kept open and read (oldest closed first past this many): a
 * process that left its job (setsid) keeps the job's output, and would wait forever once the pipe
 * is full if nobody read it any more.
 */
const LINGER_MAX = 32;
/** Log files kept open at most; past it, those of the logs quiet longest are closed. */
const OPEN_FILES_MAX = 256;
/**
 * Line-mode framing per turn of the loop, in units of lib/log/lines.ts (a byte, plus 32 a line),
 * in shares as big as the turn (smaller ones cost a lone busy log a third of its throughput, in
 * more round trips to worker threads per byte). A share starts while any of the turn is left, so a
 * turn frames at most two: 1 to 2.5 ms a MiB on a busy 2-core machine, whatever the lines are.
 */
const FRAME_PER_TURN = 1024 * 1024;
const FRAME_PER_SHARE = FRAME_PER_TURN;

export class JobLogs {
  readonly #o: JobLogsOptions;
  #poller: Poller | null = null;
  readonly #logs = new Map<string, InstanceLog>();
  /** Pipes found from an earlier daemon, not attached yet. */
  readonly #stale = new Set<string>();
  readonly #hooks: InstanceLogHooks;
  #pipeDirError: string | null = null;
  #holder: PipeHolder | null = null;
  /** Detached logs still read, oldest first. */
  #lingering: InstanceLog[] = [];
  #closingAll = false;
  /** Logs with their file open, the most recently active last. */
  readonly #openFiles = new Set<InstanceLog>();
  /** The line-mode work of every log, taken in turns (a later turn: a call answered later). */
  readonly #budget = new TurnBudget(FRAME_PER_TURN, FRAME_PER_SHARE, () => c().getpidAsync());

  get #fifoDir(): string {
    return this.#o.fifoDir ?? this.#o.pipeDir;
  }

  constructor(options: JobLogsOptions) {
    this.#o = options;
    this.#hooks = {
      failed: (l: InstanceLog, f: LogFailure) =>
        this.#o.log(
          `${f.message}; output is kept in the pipe, the oldest lines dropped past ${
            l.pipe.capacity / 2
          } bytes, until it can be written`,
        ),
      recovered: (l: InstanceLog, f: LogFailure) =>
        this.#o.log(
          `log ${l.file.path} can be written again` +
            (f.droppedBytes
              ? `: ${f.droppedLines} lines (${f.droppedBytes} bytes) were dropped`
              : ""),
        ),
      drained: (l: InstanceLog) => {
        this.#lingering = this.#lingering.filter((x) => x !== l);
        if (this.#closingAll) return true;
        this.#lingering.push(l);
        while (this.#lingering.length > LINGER_MAX) this.#lingering.shift()!.finish();
        return false;
      },
      closed: (l: InstanceLog) => {
        this.#poller?.remove(l.pipe.fd);
        this.#openFiles.delete(l);
        this.#lingering = this.#lingering.filter((x) => x !== l);
        if (this.#logs.get(l.paths.base) === l) this.#logs.delete(l.paths.base);
        if (!this.#closingAll) this.#holder?.refresh();
        else if (this.#logs.size === 0) this.#idle?.();
      },
      active: (l: InstanceLog) => {
        if (this.#openFiles.delete(l)) this.#openFiles.add(l);
        this.#o.onActivity?.();
      },
      fileOpened: (l: InstanceLog) => {
        this.#openFiles.delete(l);
        this.#openFiles.add(l);
        // Past the cap, or with few descriptors free (fd_headroom.ts): the quietest are closed.
        let max = OPEN_FILES_MAX;
        if (descriptorShortage(this.#held) !== null) max = Math.min(max, 1);
        if (this.#openFiles.size <= max) return;
        for (const other of this.#openFiles) {
          if (this.#openFiles.size <= max) break;
          if (other !== l && other.releaseFile()) this.#openFiles.delete(other);
        }
      },
      share: () => this.#budget.take(),
      error: (l: InstanceLog, m: string) =>
        this.#o.log(`internal error in log ${l.file.path}: ${m}`),
    };
    try {
      Deno.mkdirSync(options.pipeDir, { recursive: true, mode: 0o700 });
      const st = Deno.lstatSync(options.pipeDir);
      if (!st.isDirectory) throw new Error("it is not a directory");
      Deno.chmodSync(options.pipeDir, 0o700);
    } catch (e) {
      this.#pipeDirError = `cannot use ${options.pipeDir}: ${e instanceof Error ? e.message : e}`;
    }
    if (this.available) {
      this.#holder = new PipeHolder(
        options.pipeDir,
        () => [...this.#logs.values()].map((l) => l.pipe.path),
        (m) => this.#o.log(m),
      );
    }
  }

  /** True when the pipeline can run here (glibc FFI, and its directory usable). */
  get available(): boolean {
    return lib() !== null && this.#pipeDirError === null;
  }

  #idle: (() => void) | null = null;

  #pollerOrNull(): Poller | null {
    if (!this.#poller) {
      try {
        this.#poller = new Poller((m) => this.#o.log(m));
      } catch (e) {
        this.#o.log(`job output goes straight to its files: ${e instanceof Error ? e.message : e}`);
        return null;
      }
    }
    return this.#poller;
  }

  /** Descriptors the pipeline holds: pipes and log files. */
  get #held(): number {
    return this.#logs.size + this.#openFiles.size;
  }

  #open(base: string, settings: LogSettings): InstanceLog | null {
    const poller = this.#pollerOrNull();
    if (!poller) return null;
    const short = descriptorShortage(this.#held);
    if (short !== null) {
      this.#o.log(
        `${base}: cannot open the log pipe: ${short}: the job writes its log file itself`,
      );
      return null;
    }
    let l: InstanceLog;
    try {
      l = new InstanceLog(
        {
          logDir: this.#o.logDir,
          base,
          pipe: `${this.#fifoDir}/${base}${FIFO_SUFFIX}`,
          spool: `${this.#o.pipeDir}/${base}.spool`,
        },
        settings,
        this.#hooks,
      );
    } catch (e) {
      this.#o.log(
        `${base}: ${e instanceof Error ? e.message : e}: the job writes its log file itself`,
      );
      return null;
    }
    poller.add(l.pipe.fd, () => l.kick());
    this.#logs.set(base, l);
    this.#holder?.refresh();
    l.kick(); // what an earlier daemon left in the pipe
    return l;
  }

  /**
   * The FIFO the processes of `instance` of `job` are to write to (made and read from now on), or
   * null when the pipeline cannot run: the job then writes its log file itself.
   */
  attach(job: JobClass, instance: string): string | null {
    if (!this.available) return null;
    const base = logFileName(job.name, instance);
    const settings = resolveLogSettings(job.log, this.#o.defaults);
    this.#stale.delete(base);
    const found = this.#logs.get(base);
    if (found) {
      this.#lingering = this.#lingering.filter((x) => x !== found);
      found.reattach(settings);
      return found.pipe.path;
    }
    return this.#open(base, settings)?.pipe.path ?? null;
  }

  #find(job: JobClass, instance: string): InstanceLog | undefined {
    return this.#logs.get(logFileName(job.name, instance));
  }

  /** A process started: its marker (if markers are on), before anything it writes. */
  started(job: JobClass, instance: string, text: string): void {
    this.#find(job, instance)?.started(text);
  }

  /** A process ended: its partial last line completed; its marker (if markers are on). */
  ended(job: JobClass, instance: string, text: string): void {
    this.#find(job, instance)?.ended(text);
  }

  /** The instance is gone: its pipe is drained, then closed and removed. */
  detach(job: JobClass, instance: string): void {
    this.#find(job, instance)?.detach();
  }

  /** What status shows of an instance's log. */
  view(job: JobClass, instance: string): LogView | null {
    const l = this.#find(job, instance);
    if (!l) return null;
    const f = l.failure;
    return {
      file: l.file.path,
      error: f ? f.message : null,
      since: f ? f.since : null,
      droppedLines: f ? f.droppedLines : 0,
      droppedBytes: f ? f.droppedBytes : 0,
    };
  }

  /**
   * Take up the pipes an earlier daemon left (call before any leftover process is stopped: a pipe
   * whose last holder ends loses what it holds). Read from now on; `releaseUnclaimed` closes
   * those no instance attached. Returns how many were found.
   */
  recover(): number {
    if (!this.available) return 0;
    let found = 0;
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(this.#fifoDir)];
    } catch (e) {
      this.#o.log(`cannot list ${this.#fifoDir}: ${e instanceof Error ? e.message : e}`);
      return 0;
    }
    for (const e of entries) {
      if (!e.name.endsWith(FIFO_SUFFIX)) continue;
      const base = e.name.slice(0, -FIFO_SUFFIX.length);
      if (this.#logs.has(base) || base.includes("/") || base === "") continue;
      if (this.#open(base, this.#o.defaults)) {
        this.#stale.add(base);
        found++;
      }
    }
    return found;
  }

  /** Drain and close the recovered pipes no instance took up. */
  releaseUnclaimed(): void {
    for (const base of this.#stale) {
      const l = this.#logs.get(base);
      l?.ended(""); // what its processes left is all there: a partial last line is completed
      l?.detach();
    }
    this.#stale.clear();
  }

  /**
   * Daemon exit: drain every pipe (its processes are gone), waiting at most `ms`; what cannot be
   * written by then stays in its pipe for the next daemon.
   */
  async close(ms: number): Promise<void> {
    this.#closingAll = true;
    for (const l of this.#lingering) l.finish();
    this.#lingering = [];
    for (const l of this.#logs.values()) l.detach();
    if (this.#logs.size) {
      let timer: number | undefined;
      await new Promise<void>((done) => {
        this.#idle = done;
        timer = Number(setTimeout(done, ms));
      });
      clearTimeout(timer);
      this.#idle = null;
    }
    // Pipes not drained stay held (holder) for the next daemon; otherwise no holder is needed,
    // and a FIFO directory of its own (on /dev/shm) goes when empty.
    if (this.#logs.size === 0) {
      this.#holder?.stop();
      if (this.#fifoDir !== this.#o.pipeDir) {
        try {
          Deno.removeSync(this.#fifoDir);
        } catch { /* not empty: pipes for the next daemon */ }
      }
    }
    for (const l of this.#logs.values()) l.abandon();
    this.#logs.clear();
    this.#poller?.close();
    this.#poller = null;
  }
}
