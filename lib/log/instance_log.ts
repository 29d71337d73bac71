/**
 * One instance's log: moves what its processes write into their FIFO to the log file, on every
 * wake-up of the poller, until the pipe is empty. Two ways:
 *
 * - plain (no timestamps, no markers): splice(2) from the pipe into the file, in the kernel. A
 *   byte is either still in the pipe or in the file, whatever kills the daemon; the file's size is
 *   the offset, so a new daemon needs no record. Rotation happens at a line end: tee(2) shows the
 *   head of the pipe without taking it, to find the last newline that still fits.
 * - lines (timestamps or markers): through the spool (lib/log/spool.ts), then framed into lines
 *   (lib/log/lines.ts) and written, a share of the turn's budget at a time (lib/log/turn_budget.ts):
 *   framing is the daemon's own work, so many busy logs take turns and the loop goes on between.
 *
 * When the file cannot be written (a full disk, a removed directory), the job runs on: what it
 * writes waits in the pipe; past half of the pipe the oldest whole lines are dropped and counted,
 * so the job's writes never wait on the disk; the write is tried again when it writes more (at
 * most once a second) and on a back-off timer (1 s doubling to 10 s) that exists only while the
 * log is failing. Once a write works, a line saying what was dropped comes first.
 */

import { LogFile } from "./log_file.ts";
import { LogPipe } from "./log_pipe.ts";
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW, c, cstr, STATX_BASIC, statxBuffer } from "./libc.ts";
import { indexOfMarker, lineBoundary, MARKER_TAG, markerRecord } from "./lines.ts";
import { linePrefix } from "./timestamps.ts";
import { type LogSettings, needsLineMode } from "./settings.ts";
import { compressRotated, expireRotated, rotateFiles } from "./rotate_files.ts";
import { Failing, type LogFailure } from "./failing.ts";
import { LineWriter, type Step } from "./line_writer.ts";
import type { Share } from "./turn_budget.ts";

/** The record an ended process leaves in the pipe when markers are off. */
const EMPTY_MARKER = markerRecord("");

export type { LogFailure };

const NEWLINE = new Uint8Array([10]);
const enc = new TextEncoder();
const dec = new TextDecoder();

export interface InstanceLogHooks {
  /** The log became unwritable (said once per failure). */
  failed(log: InstanceLog, failure: LogFailure): void;
  /** It works again; `failure` says what was dropped meanwhile. */
  recovered(log: InstanceLog, failure: LogFailure): void;
  /**
   * Detached and drained: true to close it now, false to keep reading it a while (a process that
   * left the job may still write to it; see JobLogs).
   */
  drained(log: InstanceLog): boolean;
  /** Closed: forget it. */
  closed(log: InstanceLog): void;
  /** Its log file was opened (JobLogs keeps a bounded number open). */
  fileOpened(log: InstanceLog): void;
  /** Output is being moved (a burst of work: the daemon's idle GC counts it). */
  active(log: InstanceLog): void;
  /** A share of the line-mode work of this turn (one TurnBudget for all logs). */
  share(): Promise<Share>;
  /** A fault of upkeep's own (never expected): for the daemon log. */
  error(log: InstanceLog, message: string): void;
}

export interface InstancePaths {
  readonly logDir: string;
  /** File name in logDir: `web.log`, `worker-2.log`. */
  readonly base: string;
  readonly pipe: string;
  readonly spool: string;
}

export class InstanceLog {
  readonly file: LogFile;
  readonly pipe: LogPipe;
  settings: LogSettings;
  readonly #failing = new Failing(() => this.kick());
  /** Line mode (or a spool left by an earlier daemon): the spool and the framing. */
  #lines: LineWriter | null = null;
  #spoolChecked = false;
  #busy = false;
  #again = false;
  #closing = false;
  #closed = false;
  /** finish() was asked while a drain was under way: done when it ends (never close fds in use). */
  #finishLater = false;
  #abandonLater = false;
  /** Marker records waiting for room in the pipe, in order. */
  #markers: Uint8Array[] = [];
  /** Marker records put into the pipe and not yet taken out (plain logs look for them). */
  #markersInPipe = 0;
  #compressing: Promise<void> = Promise.resolve();

  constructor(
    readonly paths: InstancePaths,
    settings: LogSettings,
    private readonly hooks: InstanceLogHooks,
  ) {
    this.settings = settings;
    this.file = new LogFile(`${paths.logDir}/${paths.base}`);
    this.pipe = LogPipe.open(paths.pipe);
  }

  /** Why the log cannot be written now, or null. */
  get failure(): LogFailure | null {
    return this.#failing.failure;
  }

  /** Something was written, or there is something to do: drain (one drain at a time). */
  kick(): void {
    if (this.#closed) return;
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#busy = true;
    this.#pump().catch((e) => this.hooks.error(this, e instanceof Error ? e.message : String(e)))
      .finally(() => {
        this.#busy = false;
        if (this.#abandonLater) this.abandon();
        else if (this.#finishLater) this.finish();
        else if (this.#again) this.kick(); // woken after the drain's last look: look again
      });
  }

  async #pump(): Promise<void> {
    this.hooks.active(this);
    do {
      this.#again = false;
      await this.#drain();
      if (this.#closed || this.#finishLater) return;
    } while (this.#again);
  }

  /** A process of the instance started (markers). */
  started(text: string): void {
    if (this.settings.markers) this.#mark(text);
  }

  /**
   * A process of the instance ended: a marker record goes into the pipe after everything it wrote
   * (it is gone) and before anything a next process writes (not spawned yet): there its partial
   * last line is completed, and its marker written if asked (empty otherwise).
   */
  ended(text: string): void {
    this.#mark(this.settings.markers ? text : "");
    this.kick();
  }

  /** The instance is gone: drain what is left, then close and remove the pipe. */
  detach(): void {
    this.#closing = true;
    this.kick();
  }

  /** Used again before it was closed (a new instance of the same name). */
  reattach(settings: LogSettings): void {
    if (needsLineMode(settings) && !this.#lines) this.#spoolChecked = false; // now line mode
    this.#closing = false;
    this.#finishLater = this.#abandonLater; // a close asked while it was busy is off
    this.settings = settings;
  }

  get closing(): boolean {
    return this.#closing;
  }

  #mark(text: string): void {
    const rec = markerRecord(text);
    if (this.#markers.length || !this.pipe.write(rec)) this.#markers.push(rec);
    else this.#markersInPipe++;
  }

  /** Markers that found the pipe full, in order, once there is room. */
  #flushMarkers(): void {
    while (this.#markers.length && this.pipe.write(this.#markers[0]!)) {
      this.#markers.shift();
      this.#markersInPipe++;
    }
  }

  async #drain(): Promise<void> {
    for (;;) {
      if (this.#closed || this.#finishLater) return;
      this.#flushMarkers();
      const n = this.pipe.bytes();
      // (A spool left by an earlier daemon is looked at first, even with nothing in the pipe.)
      if (n === 0 && !this.#spooled && !this.#spoolToCheck()) return this.#idle();
      if (!this.#failing.mayTry) return this.#failing.dropExcess(this.pipe);
      if (!this.file.isOpen && (await this.#emptyMarkersOnly(n))) continue;
      if (!(await this.#ready())) return this.#failing.dropExcess(this.pipe);
      const before = this.file.writes;
      // Line mode waits for its share of the turn's budget (fair among logs, bounded per turn).
      const step: Step = this.#spooled // (#ready may have just found it)
        ? await this.#lines!.writeSpooled(
          this.settings,
          this.pipe.capacity,
          await this.hooks.share(),
        )
        : n === 0
        ? "ok" // nothing new: round again, to idle
        : this.#lines && needsLineMode(this.settings)
        ? await this.#lines.batch(this.pipe, this.settings, await this.hooks.share())
        : await this.#spliceBatch(n);
      if (typeof step === "object") this.#fail(step.error);
      if (typeof step === "object" || (step === "rotate" && !(await this.#rotate()))) {
        return this.#failing.dropExcess(this.pipe);
      }
      if (this.file.writes > before) this.#writing();
      if (step === "wait") return this.#idle(true);
    }
  }

  /**
   * A plain log whose pipe holds only empty marker records (processes ended, markers off) and
   * whose file does not exist: there is no line to complete, so the records are taken out and no
   * file is made. Upstart creates a job's log at its first output; a quiet job has none.
   */
  async #emptyMarkersOnly(n: number): Promise<boolean> {
    if (n === 0 || this.#markersInPipe === 0 || this.#lines || needsLineMode(this.settings)) {
      return false;
    }
    const records = n / EMPTY_MARKER.length;
    // More than were put in: the job wrote such bytes itself (output, so the file is made).
    if (!Number.isInteger(records) || records > this.#markersInPipe) return false;
    const head = this.pipe.peek(n);
    if (head.length !== n) return false;
    for (let at = 0; at < n; at += EMPTY_MARKER.length) {
      for (let i = 0; i < EMPTY_MARKER.length; i++) {
        if (head[at + i] !== EMPTY_MARKER[i]) return false;
      }
    }
    if (!(await this.file.missing())) return false;
    this.pipe.take(n);
    this.#markersInPipe -= records;
    return true;
  }

  get #spooled(): boolean {
    return (this.#lines?.unwritten ?? 0) > 0;
  }

  /** Nothing (or only a partial line) left: finish what waits for an empty pipe. */
  #idle(partialLeft = false): void {
    this.#lines?.shrink();
    if (this.#closing && !partialLeft && this.pipe.bytes() === 0 && !this.#markers.length) {
      if (this.hooks.drained(this)) this.#finishNow();
      else this.file.close(); // reopened if anything comes
    }
  }

  /**
   * Whether a spool may hold lines to write (a line-mode log, or a spool file an earlier daemon
   * left): then the file is opened even with nothing in the pipe. Plain logs without a spool open
   * their file only when there is something to write.
   */
  #spoolToCheck(): boolean {
    if (this.#spoolChecked) return false;
    if (needsLineMode(this.settings)) return true;
    // One statx, no thrown NotFound (the spool is missing for nearly every instance).
    const stx = statxBuffer();
    if (c().statx(AT_FDCWD, cstr(this.paths.spool), AT_SYMLINK_NOFOLLOW, STATX_BASIC, stx) === 0) {
      return true;
    }
    this.#spoolChecked = true;
    return false;
  }

  /** The log file is not needed now: closed (fewer fds), reopened at the next write. */
  releaseFile(): boolean {
    if (this.#busy) return false;
    this.file.close();
    return true;
  }

  /** The file open, still at its path, rotated when full, and a pending drop notice written. */
  async #ready(): Promise<boolean> {
    // The path is checked before every write: removed, moved away, truncated (copytruncate).
    if (this.file.isOpen && (await this.file.check()) === "reopen") this.file.close();
    if (!this.file.isOpen) {
      const err = await this.file.open();
      if (err) return this.#fail(err);
      this.hooks.fileOpened(this);
      if (this.settings.maxAge !== null) {
        await expireRotated(this.paths.logDir, this.paths.base, this.settings.maxAge, Date.now());
      }
    }
    if (!this.#spoolChecked && this.#spoolToCheck()) {
      const lines = await LineWriter.open(this.paths.spool, this.file);
      if (typeof lines === "string") return this.#fail(lines);
      this.#lines = lines;
      this.#spoolChecked = true;
    }
    const max = this.settings.maxBytes;
    if (max > 0 && this.file.size >= max && !(await this.#rotate())) return false;
    const notice = this.#failing.notice();
    if (notice) {
      const err = await this.file.writeAll(this.#stamped(enc.encode(notice.text)));
      if (err) return this.#fail(err);
      notice.said();
    }
    return true;
  }

  /** A write worked: the log is no longer failing (said once). */
  #writing(): void {
    const f = this.#failing.clear();
    if (f) this.hooks.recovered(this, f);
  }

  #stamped(line: Uint8Array): Uint8Array {
    const fmt = this.settings.timestamps;
    if (!fmt) return line;
    const prefix = linePrefix(fmt, Date.now());
    const out = new Uint8Array(prefix.length + line.length);
    out.set(prefix);
    out.set(line, prefix.length);
    return out;
  }

  async #rotate(): Promise<boolean> {
    await this.#compressing;
    const { logDir, base } = this.paths;
    try {
      await rotateFiles(logDir, base, this.settings.keep);
    } catch (e) {
      return this.#fail(e instanceof Error ? e.message : String(e));
    }
    this.file.close();
    const err = (await this.file.open()) ?? (await this.#lines?.rotated()) ?? null;
    if (err) return this.#fail(err);
    if (this.settings.compress && this.settings.keep > 0) {
      this.#compressing = compressRotated(logDir, base);
    }
    if (this.settings.maxAge !== null) {
      const age = this.settings.maxAge;
      this.#compressing = this.#compressing.then(() =>
        expireRotated(logDir, base, age, Date.now()).then(() => {})
      );
    }
    return true;
  }

  /**
   * Plain log: splice what the pipe holds, up to a line end when the file is about to fill, and
   * up to the next marker record while there are some in the pipe (they are taken out here).
   */
  async #spliceBatch(n: number): Promise<Step> {
    if (this.#markersInPipe > 0) {
      // The whole pipe, now (markers are only put in by this thread: none can come meanwhile).
      const all = this.pipe.bytes();
      const head = this.pipe.peek(all);
      const at = indexOfMarker(head);
      if (at === 0) return await this.#takeMarker(head);
      if (at > 0) n = at;
      // None in the whole pipe: taken out another way (line mode, dropped while failing).
      else if (head.length === all) this.#markersInPipe = 0;
      // Seen in part only (a small scratch pipe): stop short of a marker the view may cut.
      else n = Math.max(1, head.length - MARKER_TAG.length);
    }
    const max = this.settings.maxBytes;
    const room = max > 0 ? max - this.file.size : Infinity;
    let take = n, rotateAfter = false;
    if (n > room) {
      take = lineBoundary(this.pipe.peek(room), room);
      if (take === 0) {
        if (this.file.size > 0) return "rotate";
        take = room; // one line longer than a whole file: cut
      }
      rotateAfter = true;
    }
    const r = await this.file.spliceFrom(this.pipe.fd, take);
    if (typeof r === "string") return { error: r };
    return rotateAfter && r === take ? "rotate" : "ok";
  }

  /**
   * Plain log: the marker record at the head of the pipe: the line before it completed, its text
   * (if any) written as a line of its own.
   */
  async #takeMarker(head: Uint8Array): Promise<Step> {
    const end = head.indexOf(10);
    if (end < 0) return "ok"; // cannot be: a marker is written whole
    const text = head.slice(MARKER_TAG.length, end);
    this.pipe.take(end + 1);
    this.#markersInPipe--;
    if (!(await this.file.endsWithNewline())) {
      const err = await this.file.writeAll(NEWLINE);
      if (err) return { error: err };
    }
    if (text.length > 1) {
      const err = await this.file.writeAll(enc.encode(`upkeep:${dec.decode(text)}\n`));
      if (err) return { error: err };
    }
    return "ok";
  }

  /** A write failed: said once when it begins; the job runs on (Failing). */
  #fail(message: string): false {
    const begun = this.#failing.fail(message);
    if (begun) this.hooks.failed(this, begun);
    return false;
  }

  /** Close the pipe (removing it) and the file: for a detached, drained log. */
  finish(): void {
    if (this.#busy) {
      this.#finishLater = true;
      return;
    }
    this.#finishNow();
  }

  #finishNow(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failing.clear();
    this.hooks.closed(this); // before its fds are closed (the poller lets go of the pipe)
    this.#lines?.close(true);
    this.pipe.close(true);
    this.file.close();
  }

  /** Stop now (daemon exit): the pipe stays (a new daemon reads what is left in it). */
  abandon(): void {
    if (this.#closed) return;
    if (this.#busy) {
      this.#finishLater = true; // closed, not removed, once the write under way returns
      this.#abandonLater = true;
      return;
    }
    this.#closed = true;
    this.#failing.clear();
    this.#lines?.close(false);
    this.pipe.close(false);
    this.file.close();
  }

  /** Whether everything has been written (for a shutdown that waits for the logs). */
  get drained(): boolean {
    return this.#closed || (this.pipe.bytes() === 0 && !this.#spooled && !this.#busy);
  }
}
