/**
 * Watches the conf dirs through inotify: each conf dir and every subdirectory the loader searches
 * (lib/job/load.ts findConfFiles: not symlinked directories, not the ones libnih ignores), new
 * ones as they appear. The inotify fd is waited on by a Poller (one epoll_wait on a worker thread),
 * so the daemon's loop never blocks and an idle watcher costs no wake-up; its events are read
 * and handled on the loop (./inotify_events.ts says what each one means).
 *
 * A job file someone is writing (created or modified, not yet closed) is "unsettled": the reload
 * that a change elsewhere brings leaves it out until its writer closes it or renames it into place.
 * A writer that goes quiet for UNSETTLED_MS without a close (a crashed one) settles it anyway.
 */

import { Poller } from "../log/poller.ts";
import { ignoredDir } from "../job/load.ts";
import { Inotify } from "./inotify.ts";
import {
  IN_DONT_FOLLOW,
  type InotifyEvent,
  parseInotifyEvents,
  reactionTo,
  WATCH_MASK,
} from "./inotify_events.ts";

/** How long a job file with no write and no close stays unsettled. */
export const UNSETTLED_MS = 10_000;
/** Reads per turn of the loop (64 KiB each: more than the kernel's whole default queue). */
const MAX_READS = 64;

export interface WatchSink {
  /** Something the loader reads changed: reload (soon). */
  changed(): void;
  log(message: string): void;
  /** UNSETTLED_MS unless given (tests). */
  unsettledMs?: number;
}

export class InotifyConfWatcher {
  readonly #roots: readonly string[];
  readonly #ino: Inotify;
  readonly #poller: Poller;
  /** Watch descriptor -> the directory it watches. */
  #dirs = new Map<number, string>();
  /** Job files being written -> when they were last written (performance.now()). */
  readonly #unsettled = new Map<string, number>();
  /** Paths a watch could not be added for, logged once. */
  readonly #reported = new Set<string>();
  readonly #buf = new Uint8Array(64 * 1024);
  readonly #settleMs: number;
  #expiry: number | undefined;
  #more: number | undefined;
  #closed = false;

  /** Null without FFI; throws Error when inotify or epoll cannot be set up. */
  static open(roots: readonly string[], sink: WatchSink): InotifyConfWatcher | null {
    const ino = Inotify.open();
    if (!ino) return null;
    let poller: Poller;
    try {
      poller = new Poller((m) => sink.log(m), "changes in the conf dirs");
    } catch (e) {
      ino.close();
      throw e;
    }
    return new InotifyConfWatcher(roots, ino, poller, sink);
  }

  private constructor(
    roots: readonly string[],
    ino: Inotify,
    poller: Poller,
    private readonly sink: WatchSink,
  ) {
    this.#roots = roots.map((d) => d.replace(/\/+$/, "") || "/");
    this.#ino = ino;
    this.#poller = poller;
    this.#settleMs = sink.unsettledMs ?? UNSETTLED_MS;
    this.resync();
    poller.add(ino.fd, () => this.drain());
  }

  /** The job files being written now (absolute paths, as the loader names them). */
  unsettled(): ReadonlySet<string> {
    return new Set(this.#unsettled.keys());
  }

  /** The directories watched (for tests and diagnostics). */
  watched(): string[] {
    return [...this.#dirs.values()].sort();
  }

  /**
   * Watch every searched directory again from the roots (after lost events, or on an explicit
   * reload: a conf dir that was removed and made again), and drop watches outside them.
   */
  resync(): void {
    if (this.#closed) return;
    const old = this.#dirs;
    this.#dirs = new Map();
    for (const root of this.#roots) this.#watchTree(root, true);
    for (const wd of old.keys()) if (!this.#dirs.has(wd)) this.#ino.removeWatch(wd);
  }

  /** Read and handle what is queued (called by the Poller, and before each reload). */
  drain(): void {
    clearTimeout(this.#more);
    this.#more = undefined;
    for (let reads = 0; !this.#closed; reads++) {
      if (reads === MAX_READS) {
        // A flood: the rest on the next turn, so the loop goes on meanwhile.
        this.#more = Number(setTimeout(() => this.drain(), 0));
        return;
      }
      const n = this.#ino.read(this.#buf);
      if (typeof n === "string") {
        this.sink.log(`cannot read changes in the conf dirs: ${n}`);
        return;
      }
      if (n === 0) return;
      for (const e of parseInotifyEvents(this.#buf.subarray(0, n))) this.#handle(e);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#expiry);
    clearTimeout(this.#more);
    this.#poller.remove(this.#ino.fd);
    this.#poller.close();
    this.#ino.close();
  }

  #handle(e: InotifyEvent): void {
    const reaction = reactionTo(e);
    if (reaction === "overflow") {
      // Files known to be unsettled stay so (their close may be among the lost events: then they
      // settle when their time is up).
      this.sink.log("too many changes in the conf dirs at once: reading them all again");
      this.resync();
      this.sink.changed();
      return;
    }
    const dir = this.#dirs.get(e.wd);
    if (reaction === "forget") {
      this.#dirs.delete(e.wd);
      if (dir !== undefined && this.#roots.includes(dir)) {
        this.sink.log(
          `${dir} is no longer watched (removed or unmounted); reload-configuration watches it ` +
            "again",
        );
      }
      return;
    }
    if (dir === undefined || reaction === "ignore") return; // a watch dropped meanwhile
    const path = e.name === "" ? dir : `${dir}/${e.name}`;
    switch (reaction) {
      case "writing":
        this.#markUnsettled(path);
        return;
      case "created":
        if (beingWritten(path)) this.#markUnsettled(path);
        else this.sink.changed();
        return;
      case "settled":
        this.#unsettled.delete(path);
        break;
      case "dir-added":
        this.#watchTree(path, false);
        break;
      case "dir-gone":
        this.#unwatchTree(path);
        break;
    }
    this.sink.changed();
  }

  /** Watch `top` and every directory under it the loader searches (no symlinked ones). */
  #watchTree(top: string, isRoot: boolean): void {
    const stack: [string, boolean][] = [[top, isRoot]];
    while (stack.length > 0 && !this.#closed) {
      const [dir, root] = stack.pop()!;
      // A conf dir itself may be a symlink (the loader reads through it); nothing below is followed.
      const wd = this.#ino.addWatch(dir, WATCH_MASK | (root ? 0 : IN_DONT_FOLLOW));
      if (typeof wd === "string") {
        if (!this.#reported.has(dir)) this.sink.log(`cannot watch ${dir}: ${wd}`);
        this.#reported.add(dir);
        continue;
      }
      this.#reported.delete(dir);
      if (this.#dirs.has(wd)) continue; // seen already (a bind mount, or listed twice)
      this.#dirs.set(wd, dir);
      let entries: Deno.DirEntry[];
      try {
        entries = [...Deno.readDirSync(dir)];
      } catch {
        continue; // the loader reports it
      }
      for (const e of entries) {
        if (e.isDirectory && !e.isSymlink && !ignoredDir(e.name)) {
          stack.push([`${dir}/${e.name}`, false]);
        }
      }
    }
  }

  #unwatchTree(top: string): void {
    const under = `${top}/`;
    for (const [wd, dir] of [...this.#dirs]) {
      if (dir !== top && !dir.startsWith(under)) continue;
      this.#ino.removeWatch(wd);
      this.#dirs.delete(wd);
    }
    for (const path of [...this.#unsettled.keys()]) {
      if (path.startsWith(under)) this.#unsettled.delete(path);
    }
  }

  #markUnsettled(path: string): void {
    this.#unsettled.set(path, performance.now());
    if (this.#expiry === undefined) this.#armExpiry(this.#settleMs);
  }

  /** Settle the files no one has written for a while (a writer that died before closing). */
  #armExpiry(ms: number): void {
    this.#expiry = Number(setTimeout(() => {
      this.#expiry = undefined;
      const now = performance.now();
      let next = Infinity, expired = false;
      for (const [path, at] of [...this.#unsettled]) {
        if (now - at >= this.#settleMs) {
          this.#unsettled.delete(path);
          expired = true;
        } else next = Math.min(next, at + this.#settleMs - now);
      }
      if (next !== Infinity) this.#armExpiry(next);
      if (expired) this.sink.changed();
    }, ms));
  }
}

/** A regular file with one link, just created: its writer's close (or rename) will say when. */
function beingWritten(path: string): boolean {
  try {
    const st = Deno.lstatSync(path);
    return st.isFile && st.nlink === 1;
  } catch {
    return false;
  }
}
