/**
 * Turning what a job wrote into log lines, for logs with timestamps or markers: whole lines only
 * (a partial last line waits in the pipe for its end), each with the time in front; marker
 * records the daemon put into the pipe (`\0upkeep: ...\n`) become `upkeep: ...` lines and end a
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
  /**
   * `input` is only the head of what is waiting: a line whose end is not in it stops the framing
   * (neither cut nor waited for: the caller looks at more).
   */
  readonly more?: boolean;
  /** Stop before the record that would bring `cost` past this (the first one is always taken). */
  readonly budget?: number;
}

export interface Framed {
  /** Input bytes taken (whole records only). */
  readonly used: number;
  readonly out: Uint8Array;
  /** Lines in `out` (markers included). */
  readonly lines: number;
  /** Stopped because the next line would pass maxOut: rotate, then go on. */
  readonly full: boolean;
  /** The work it took, in budget units: input bytes taken plus LINE_COST per record. */
  readonly cost: number;
}

/** What a record costs beyond its bytes, in budget units (about what framing a short line takes). */
export const LINE_COST = 32;

function isTag(input: Uint8Array, at: number): boolean {
  if (at + MARKER_TAG.length > input.length) return false;
  for (let i = 1; i < MARKER_TAG.length; i++) if (input[at + i] !== MARKER_TAG[i]) return false;
  return true;
}

/** The first newline in `bytes` at or after `from`, or -1 (a short line costs no call). */
function nextNewline(bytes: Uint8Array, from: number): number {
  const stop = Math.min(from + 16, bytes.length);
  for (let i = from; i < stop; i++) if (bytes[i] === NEWLINE) return i;
  return stop < bytes.length ? bytes.indexOf(NEWLINE, stop) : -1;
}

/** A buffer kept between calls of frameLines (per log), grown when a batch needs more. */
export interface FrameBuffer {
  buf: Uint8Array;
}

function grow(work: FrameBuffer, used: number, needed: number): Uint8Array {
  const bigger = new Uint8Array(Math.max(needed, work.buf.length * 2, 4096));
  bigger.set(work.buf.subarray(0, used));
  return work.buf = bigger;
}

/**
 * Lines of `input` with their prefix, as far as whole records, `maxOut` and `budget` allow. The
 * output is a view into `work.buf` (valid until the next call with it). Linear in the input: the
 * next newline and the next marker are each searched for once, not again for every line.
 */
export function frameLines(
  input: Uint8Array,
  opts: FrameOptions,
  work: FrameBuffer = { buf: new Uint8Array(0) },
): Framed {
  const prefix = opts.prefix, P = prefix.length, len = input.length;
  const budget = opts.budget ?? Infinity;
  let buf = work.buf;
  const guess = Math.min(len, budget) + 64 * (P + 1);
  if (buf.length < guess) buf = grow(work, 0, guess);
  let o = 0, pos = 0, lines = 0, cost = 0, full = false;
  let nl = nextNewline(input, 0), tag = indexOfMarker(input);
  while (pos < len) {
    if (nl !== -1 && nl < pos) nl = nextNewline(input, pos);
    if (tag !== -1 && tag < pos) tag = indexOfMarker(input, pos);
    const recordEnd = nl === -1 ? len : nl + 1;
    const tagged = tag !== -1 && tag < recordEnd;
    let start = pos, end: number, addNewline = false;
    if (tagged && tag === pos) {
      if (nl === -1 && !opts.final) break; // a marker record still being written
      if (nl === -1) {
        start = pos + 1;
        end = len;
        addNewline = true;
      } else if (nl === pos + MARKER_TAG.length) {
        if (cost > 0 && cost + MARKER_TAG.length + 1 + LINE_COST > budget) break;
        cost += MARKER_TAG.length + 1 + LINE_COST;
        pos = nl + 1; // the empty marker: ends a partial line, writes nothing
        continue;
      } else {
        start = pos + 1; // drop the NUL: `upkeep: ...\n`
        end = nl + 1;
      }
    } else if (tagged) {
      end = Math.min(tag, pos + opts.maxLine); // a partial line the process left: completed here
      addNewline = true;
    } else if (nl === -1) {
      if (opts.final) {
        end = len;
      } else if (opts.more || len - pos < opts.maxLine) {
        break; // wait for the rest of the line (or look at more of it)
      } else {
        end = pos + opts.maxLine;
      }
      addNewline = true;
    } else {
      end = nl + 1;
    }
    if (cost > 0 && cost + end - pos + LINE_COST > budget) break;
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
    if (o + size > buf.length) buf = grow(work, o, o + size);
    for (let k = 0; k < P; k++) buf[o + k] = prefix[k]!;
    const at = o + P, n = end - start;
    if (n <= 256) { for (let k = 0; k < n; k++) buf[at + k] = input[start + k]!; }
    else buf.set(input.subarray(start, end), at);
    o += size;
    if (addNewline) buf[o - 1] = NEWLINE;
    lines++;
    cost += end - pos + LINE_COST;
    pos = end;
  }
  return { used: pos, out: buf.subarray(0, o), lines, full, cost };
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

/**
 * Where the first marker record at or after `from` starts in `bytes`, or -1. A NUL that is not one
 * costs a step of a loop, not a call (a job writing NULs, `cat /dev/zero`, is framed in linear
 * time).
 */
export function indexOfMarker(bytes: Uint8Array, from = 0): number {
  const len = bytes.length;
  let z = bytes.indexOf(0, from);
  while (z !== -1) {
    while (z + 1 < len && bytes[z + 1] === 0) z++; // only the last NUL of a run can start one
    if (isTag(bytes, z)) return z;
    const stop = Math.min(z + 64, len);
    let i = z + 1;
    while (i < stop && bytes[i] !== 0) i++;
    z = i < stop ? i : stop < len ? bytes.indexOf(0, stop) : -1;
  }
  return -1;
}

/** Newlines in `bytes` (lines dropped, for the notice written once the log works again). */
export function countLines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(NEWLINE); i !== -1; i = bytes.indexOf(NEWLINE, i + 1)) n++;
  return n;
}
