/**
 * Turning what a job wrote into log lines, for logs with timestamps or markers: whole lines only
 * (a partial last line waits in the pipe for its end), each with the time in front; marker
 * records the daemon put into the pipe (`\0upkeep: …\n`) become `upkeep: …` lines and end a
 * partial line before them (completed with a newline, never glued to the marker). Pure: no Deno
 * APIs.
 *
 * A partial line `maxLine` long is written as a line of its own (the pipe could hold no more of
 * it), and a line that would not fit in an empty file (`maxOut`) is cut: the only two cases where a
 * line is split.
 */

const enc = new TextEncoder();

/** What starts a marker record in the pipe. */
export const MARKER_TAG = enc.encode("\0upkeep:");
const NEWLINE = 10;

/** A marker record for the pipe: `upkeep: TEXT` in the log; an empty text writes nothing. */
export function markerRecord(text: string): Uint8Array {
  return enc.encode(text ? `\0upkeep: ${text}\n` : "\0upkeep:\n");
}

export interface FrameOptions {
  /** Bytes before every line (the time and a space); may be empty. */
  readonly prefix: Uint8Array;
  /** At most this many output bytes (the room left in the file); Infinity for no limit. */
  readonly maxOut: number;
  /** A partial line this long is written as a line (with a newline added). */
  readonly maxLine: number;
  /** The file is empty: a first line longer than maxOut is cut rather than left for later. */
  readonly cutFirst: boolean;
  /** Nothing more will follow: an incomplete last line is written too, completed. */
  readonly final?: boolean;
}

export interface Framed {
  /** Input bytes taken (whole records only). */
  readonly used: number;
  readonly out: Uint8Array;
  /** Lines in `out` (markers included). */
  readonly lines: number;
  /** Stopped because the next line would pass maxOut: rotate, then go on. */
  readonly full: boolean;
}

function isTag(input: Uint8Array, at: number): boolean {
  if (at + MARKER_TAG.length > input.length) return false;
  for (let i = 1; i < MARKER_TAG.length; i++) if (input[at + i] !== MARKER_TAG[i]) return false;
  return true;
}

/** A buffer kept between calls of frameLines (per log), grown when a batch needs more. */
export interface FrameBuffer {
  buf: Uint8Array;
}

/**
 * Lines of `input` with their prefix, as far as whole records and `maxOut` allow. The output is
 * a view into `work.buf` (valid until the next call with it): the input is copied to the end of
 * that buffer and the lines are moved to its front with copyWithin (no allocation per line).
 */
export function frameLines(
  input: Uint8Array,
  opts: FrameOptions,
  work: FrameBuffer = { buf: new Uint8Array(0) },
): Framed {
  const P = opts.prefix.length;
  const len = input.length;
  let margin = Math.max(64 * (P + 1), len >> 1);
  if (work.buf.length < len + margin + P) work.buf = new Uint8Array(len + margin + P);
  let buf = work.buf;
  let pre = buf.length - P; // the prefix, kept at the very end
  let base = pre - len; // the input, just before it
  buf.set(opts.prefix, pre);
  buf.set(input, base);
  let o = 0, pos = 0, lines = 0, full = false;
  let zero = input.indexOf(0);
  const tagIn = (from: number, to: number): number => {
    if (zero !== -1 && zero < from) zero = input.indexOf(0, from);
    for (let z = zero; z !== -1 && z < to; z = input.indexOf(0, z + 1)) {
      if (isTag(input, z)) return z;
    }
    return -1;
  };
  while (pos < len) {
    const nl = input.indexOf(NEWLINE, pos);
    const recordEnd = nl === -1 ? len : nl + 1;
    const tag = zero === -1 ? -1 : tagIn(pos, recordEnd);
    let start = pos, end: number, addNewline = false;
    if (tag === pos) {
      if (nl === -1 && !opts.final) break; // a marker record still being written
      if (nl === -1) {
        start = pos + 1;
        end = len;
        addNewline = true;
      } else if (nl === pos + MARKER_TAG.length) {
        pos = nl + 1; // the empty marker: ends a partial line, writes nothing
        continue;
      } else {
        start = pos + 1; // drop the NUL: `upkeep: …\n`
        end = nl + 1;
      }
    } else if (tag !== -1) {
      end = tag; // a partial line the process left: completed here
      addNewline = true;
    } else if (nl === -1) {
      if (opts.final) {
        end = len;
      } else if (len - pos < opts.maxLine) {
        break; // wait for the rest of the line
      } else {
        end = pos + opts.maxLine;
      }
      addNewline = true;
    } else {
      end = nl + 1;
    }
    let size = P + end - start + (addNewline ? 1 : 0);
    if (o + size > opts.maxOut) {
      if (o > 0 || !opts.cutFirst || opts.maxOut < P + 2) {
        full = true;
        break;
      }
      end = start + (opts.maxOut - P - 1);
      addNewline = true;
      size = opts.maxOut;
    }
    // The output must not run into input not read yet: grow the buffer (rare: short lines).
    if (o + size > base + end) {
      margin = Math.max(margin * 2, o + size - base - start + len);
      const bigger = new Uint8Array(len + margin + P);
      bigger.set(buf.subarray(0, o));
      pre = bigger.length - P;
      base = pre - len;
      bigger.set(opts.prefix, pre);
      bigger.set(input, base);
      buf = work.buf = bigger;
    }
    buf.copyWithin(o + P, base + start, base + end); // the line first: the prefix may cover it
    if (P) buf.copyWithin(o, pre, pre + P);
    o += size;
    if (addNewline) buf[o - 1] = NEWLINE;
    lines++;
    pos = end;
  }
  return { used: pos, out: buf.subarray(0, o), lines, full };
}

/**
 * Where to cut `bytes` (the head of the pipe) so that what is taken ends a line and fits in
 * `room`: the length up to and with the last newline within `room`, or 0 when there is none.
 */
export function lineBoundary(bytes: Uint8Array, room: number): number {
  const limit = Math.min(room, bytes.length);
  if (limit <= 0) return 0;
  const nl = bytes.lastIndexOf(NEWLINE, limit - 1);
  return nl === -1 ? 0 : nl + 1;
}

/** Where the first marker record starts in `bytes`, or -1. */
export function indexOfMarker(bytes: Uint8Array): number {
  for (let z = bytes.indexOf(0); z !== -1; z = bytes.indexOf(0, z + 1)) {
    if (isTag(bytes, z)) return z;
  }
  return -1;
}

/** Newlines in `bytes` (lines dropped, for the notice written once the log works again). */
export function countLines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(NEWLINE); i !== -1; i = bytes.indexOf(NEWLINE, i + 1)) n++;
  return n;
}
