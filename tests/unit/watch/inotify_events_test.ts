/**
 * inotify events from raw read(2) buffers, and which of them reload the job files: table-driven,
 * no file system.
 */

import { deepEqual, equal } from "node:assert/strict";
import {
  IN_ATTRIB,
  IN_CLOSE_WRITE,
  IN_CREATE,
  IN_DELETE,
  IN_DELETE_SELF,
  IN_IGNORED,
  IN_ISDIR,
  IN_MODIFY,
  IN_MOVED_FROM,
  IN_MOVED_TO,
  IN_Q_OVERFLOW,
  IN_UNMOUNT,
  type InotifyEvent,
  isJobFileName,
  parseInotifyEvents,
  type Reaction,
  reactionTo,
} from "../../../lib/watch/inotify_events.ts";

/** One struct inotify_event as the kernel writes it: the name NUL-padded to `padTo` bytes. */
function raw(wd: number, mask: number, cookie: number, name: string, padTo = 16): Uint8Array {
  const n = new TextEncoder().encode(name);
  const len = name === "" ? 0 : Math.ceil((n.length + 1) / padTo) * padTo;
  const b = new Uint8Array(16 + len);
  const v = new DataView(b.buffer);
  v.setInt32(0, wd, true);
  v.setUint32(4, mask >>> 0, true);
  v.setUint32(8, cookie, true);
  v.setUint32(12, len, true);
  b.set(n, 16);
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const PARSE_CASES: [string, Uint8Array, InotifyEvent[]][] = [
  ["nothing", new Uint8Array(0), []],
  ["one event about the directory itself (no name)", raw(1, IN_ATTRIB | IN_ISDIR, 0, ""), [
    { wd: 1, mask: IN_ATTRIB | IN_ISDIR, cookie: 0, name: "" },
  ]],
  ["a name padded with NULs", raw(3, IN_CLOSE_WRITE, 0, "web.conf"), [
    { wd: 3, mask: IN_CLOSE_WRITE, cookie: 0, name: "web.conf" },
  ]],
  ["a name exactly 15 bytes (one NUL)", raw(2, IN_DELETE, 0, "fifteen-chars.x"), [
    { wd: 2, mask: IN_DELETE, cookie: 0, name: "fifteen-chars.x" },
  ]],
  [
    "a rename: two events with one cookie, then an overflow (wd -1)",
    concat(
      raw(1, IN_MOVED_FROM, 77, "a.conf.tmp"),
      raw(1, IN_MOVED_TO, 77, "a.conf"),
      raw(-1, IN_Q_OVERFLOW, 0, ""),
    ),
    [
      { wd: 1, mask: IN_MOVED_FROM, cookie: 77, name: "a.conf.tmp" },
      { wd: 1, mask: IN_MOVED_TO, cookie: 77, name: "a.conf" },
      { wd: -1, mask: IN_Q_OVERFLOW, cookie: 0, name: "" },
    ],
  ],
  ["a UTF-8 name", raw(4, IN_CREATE, 0, "tâche.conf", 32), [
    { wd: 4, mask: IN_CREATE, cookie: 0, name: "tâche.conf" },
  ]],
  [
    "an incomplete event at the end is left out",
    concat(
      raw(1, IN_DELETE, 0, "a.conf"),
      raw(1, IN_DELETE, 0, "b.conf").subarray(0, 20),
    ),
    [{ wd: 1, mask: IN_DELETE, cookie: 0, name: "a.conf" }],
  ],
  ["a header alone, cut short", raw(1, IN_DELETE, 0, "").subarray(0, 10), []],
];

for (const [what, bytes, want] of PARSE_CASES) {
  Deno.test(`parseInotifyEvents(): ${what}`, () => {
    deepEqual(parseInotifyEvents(bytes), want);
  });
}

Deno.test("parseInotifyEvents() reads a buffer that starts inside a larger one", () => {
  const whole = concat(new Uint8Array(8), raw(5, IN_MODIFY, 0, "x.override"));
  deepEqual(parseInotifyEvents(whole.subarray(8)), [
    { wd: 5, mask: IN_MODIFY, cookie: 0, name: "x.override" },
  ]);
});

const ev = (mask: number, name: string, wd = 1): InotifyEvent => ({ wd, mask, cookie: 0, name });

const REACTIONS: [string, InotifyEvent, Reaction][] = [
  // A job file: whole once closed or renamed in; each write only marks it as being written.
  ["a job file closed after writing", ev(IN_CLOSE_WRITE, "web.conf"), "settled"],
  ["a job file renamed into place", ev(IN_MOVED_TO, "web.conf"), "settled"],
  ["a job file renamed away", ev(IN_MOVED_FROM, "web.conf"), "settled"],
  ["a job file removed", ev(IN_DELETE, "web.conf"), "settled"],
  ["an override closed after writing", ev(IN_CLOSE_WRITE, "web.override"), "settled"],
  ["a job file written to (not closed)", ev(IN_MODIFY, "web.conf"), "writing"],
  ["a job file's name created", ev(IN_CREATE, "web.conf"), "created"],
  ["a job file's mode or owner changed", ev(IN_ATTRIB, "web.conf"), "reload"],
  ["an override's mode changed", ev(IN_ATTRIB, "web.override"), "reload"],
  ["a hidden job file (the loader reads it)", ev(IN_CLOSE_WRITE, ".h.conf"), "settled"],
  // Names the loader does not read.
  ["`.conf` alone", ev(IN_CLOSE_WRITE, ".conf"), "ignore"],
  ["`.override` alone", ev(IN_CLOSE_WRITE, ".override"), "ignore"],
  ["an editor's swap file", ev(IN_CLOSE_WRITE, ".web.conf.swp"), "ignore"],
  ["a backup", ev(IN_MOVED_TO, "web.conf~"), "ignore"],
  ["a FIFO or anything else not named as a job file", ev(IN_CREATE, "fifo"), "ignore"],
  ["a write to another file", ev(IN_MODIFY, "notes.txt"), "ignore"],
  // Directories.
  ["a directory made", ev(IN_CREATE | IN_ISDIR, "net"), "dir-added"],
  ["a directory renamed in", ev(IN_MOVED_TO | IN_ISDIR, "net"), "dir-added"],
  ["a directory renamed away", ev(IN_MOVED_FROM | IN_ISDIR, "net"), "dir-gone"],
  ["a directory removed", ev(IN_DELETE | IN_ISDIR, "net"), "reload"],
  ["a directory's mode changed", ev(IN_ATTRIB | IN_ISDIR, "net"), "reload"],
  ["a directory named like a job file", ev(IN_CREATE | IN_ISDIR, "d.conf"), "dir-added"],
  ["a hidden directory made (not searched)", ev(IN_CREATE | IN_ISDIR, ".git"), "ignore"],
  ["a directory renamed to a backup name", ev(IN_MOVED_TO | IN_ISDIR, "net.bak"), "ignore"],
  ["a dpkg leftover directory", ev(IN_CREATE | IN_ISDIR, "x.dpkg-new"), "ignore"],
  // The watched directory itself, and the kernel's own events.
  ["the watched directory's mode changed", ev(IN_ATTRIB | IN_ISDIR, ""), "reload"],
  ["the watched directory removed", ev(IN_DELETE_SELF, ""), "reload"],
  ["its file system unmounted", ev(IN_UNMOUNT, ""), "reload"],
  ["a watch dropped by the kernel", ev(IN_IGNORED, ""), "forget"],
  ["events lost", ev(IN_Q_OVERFLOW, "", -1), "overflow"],
];

for (const [what, e, want] of REACTIONS) {
  Deno.test(`reactionTo(): ${what} → ${want}`, () => {
    equal(reactionTo(e), want);
  });
}

Deno.test("isJobFileName() takes X.conf and X.override only", () => {
  for (const n of ["a.conf", ".h.conf", "a.b.conf", "a.override"]) equal(isJobFileName(n), true, n);
  for (const n of [".conf", ".override", "a.conf~", "a.conf.swp", "a", "conf"]) {
    equal(isJobFileName(n), false, n);
  }
});
