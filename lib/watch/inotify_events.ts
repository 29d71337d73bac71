/**
 * What inotify(7) says about the conf dirs, and what the daemon makes of it. Pure: raw event
 * buffers in, events and reactions out (the FFI is in ./inotify.ts, the watches in
 * ./conf_watcher.ts).
 *
 * As Upstart, a job file counts once it is whole: closed after writing (IN_CLOSE_WRITE) or renamed
 * into place (IN_MOVED_TO), never on each write (IN_MODIFY only marks it as being written). Also
 * reloaded on: removal and renames away, new links and other non-files (IN_CREATE of anything but a
 * file someone is writing), new and vanished directories, and mode or owner changes (IN_ATTRIB:
 * StrictModes refuses group- and world-writable files).
 */

import { ignoredDir } from "../job/load.ts";

// Linux values (the same on every architecture).
export const IN_MODIFY = 0x2;
export const IN_ATTRIB = 0x4;
export const IN_CLOSE_WRITE = 0x8;
export const IN_MOVED_FROM = 0x40;
export const IN_MOVED_TO = 0x80;
export const IN_CREATE = 0x100;
export const IN_DELETE = 0x200;
export const IN_DELETE_SELF = 0x400;
export const IN_UNMOUNT = 0x2000;
export const IN_Q_OVERFLOW = 0x4000;
export const IN_IGNORED = 0x8000;
export const IN_ONLYDIR = 0x01000000;
export const IN_DONT_FOLLOW = 0x02000000;
export const IN_EXCL_UNLINK = 0x04000000;
export const IN_ISDIR = 0x40000000;

/** What each conf dir and subdirectory is watched for. */
export const WATCH_MASK = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |
  IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK;

/** struct inotify_event without its name. */
export const EVENT_HEADER_BYTES = 16;

export interface InotifyEvent {
  /** The watch (-1 with IN_Q_OVERFLOW). */
  readonly wd: number;
  readonly mask: number;
  readonly cookie: number;
  /** The entry in the watched directory ("" when the event is about the directory itself). */
  readonly name: string;
}

const decoder = new TextDecoder();

/**
 * The events in what one or more read(2)s of an inotify fd returned (native byte order: little
 * endian on every architecture upkeep runs on). An incomplete event at the end is left out: the
 * kernel never returns one.
 */
export function parseInotifyEvents(bytes: Uint8Array): InotifyEvent[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: InotifyEvent[] = [];
  let at = 0;
  while (at + EVENT_HEADER_BYTES <= bytes.length) {
    const len = v.getUint32(at + 12, true);
    const start = at + EVENT_HEADER_BYTES, end = start + len;
    if (end > bytes.length) break;
    const nul = bytes.subarray(start, end).indexOf(0);
    out.push({
      wd: v.getInt32(at, true),
      mask: v.getUint32(at + 4, true),
      cookie: v.getUint32(at + 8, true),
      name: decoder.decode(bytes.subarray(start, nul === -1 ? end : start + nul)),
    });
    at = end;
  }
  return out;
}

/**
 * What to do about one event:
 * - `reload`: something the loader reads changed;
 * - `settled`: a job file is whole (closed after writing, renamed in) or gone: reload;
 * - `writing`: a job file is being written: wait for it (no reload);
 * - `created`: a job file's name appeared: a regular file with one link is being written (wait),
 *   anything else (a symlink, a hard link, a FIFO) is there as it is (reload);
 * - `dir-added`: a searched directory appeared: watch it and what is under it, reload;
 * - `dir-gone`: a watched directory was renamed away: drop its watches, reload;
 * - `forget`: the kernel dropped a watch (IN_IGNORED);
 * - `overflow`: events were lost: watch everything again and reload;
 * - `ignore`.
 */
export type Reaction =
  | "reload"
  | "settled"
  | "writing"
  | "created"
  | "dir-added"
  | "dir-gone"
  | "forget"
  | "overflow"
  | "ignore";

/** A name the loader reads: `X.conf` or `X.override` (the extension alone is not a job). */
export function isJobFileName(name: string): boolean {
  return (name.endsWith(".conf") && name.length > 5) ||
    (name.endsWith(".override") && name.length > 9);
}

export function reactionTo(e: InotifyEvent): Reaction {
  const m = e.mask;
  if (m & IN_Q_OVERFLOW) return "overflow";
  if (m & IN_IGNORED) return "forget";
  if (m & (IN_DELETE_SELF | IN_UNMOUNT)) return "reload";
  if (e.name === "") return m & IN_ATTRIB ? "reload" : "ignore";
  if (m & IN_ISDIR) {
    // As the loader: directories libnih ignores (hidden, backups, version control) are not read.
    if (ignoredDir(e.name)) return "ignore";
    if (m & (IN_CREATE | IN_MOVED_TO)) return "dir-added";
    if (m & IN_MOVED_FROM) return "dir-gone";
    return m & (IN_DELETE | IN_ATTRIB) ? "reload" : "ignore";
  }
  if (!isJobFileName(e.name)) return "ignore";
  if (m & IN_CREATE) return "created";
  if (m & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)) return "settled";
  if (m & IN_ATTRIB) return "reload";
  return m & IN_MODIFY ? "writing" : "ignore";
}
