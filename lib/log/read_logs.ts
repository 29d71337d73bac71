/**
 * Reading a job's log as `upkeep logs` does, straight from the files (no daemon needed; any user
 * who may read them): the rotated files oldest first (`.gz` ones decompressed), then the current
 * file; the last N lines; lines since a time (by their timestamps, or by file times for logs
 * without); and following the current file through rotations (by name, like `tail -F`), outside
 * truncations (copytruncate) and respawns (the daemon keeps one file per instance).
 */

import { rotatedFiles } from "./rotation.ts";
import { lineTime } from "./timestamps.ts";

export interface LogFileRef {
  readonly path: string;
  readonly gz: boolean;
  readonly mtimeMs: number;
}

const NEWLINE = 10;
const CHUNK = 64 * 1024;
const dec = new TextDecoder();

/** The files of log `base` in `dir`, oldest first, the current one last. */
export function listLogFiles(dir: string, base: string): LogFileRef[] {
  const names: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (e.name === base || e.name.startsWith(`${base}.`)) names.push(e.name);
  }
  const out: LogFileRef[] = [];
  const rotated = rotatedFiles(base, names);
  const seen = new Set<number>();
  for (const f of rotated) {
    if (seen.has(f.n)) continue; // a plain file and its .gz twin (compression cut short)
    seen.add(f.n);
    out.push(ref(`${dir}/${f.name}`, f.gz));
  }
  if (names.includes(base)) out.push(ref(`${dir}/${base}`, false));
  return out.filter((r) => r.mtimeMs >= 0);
}

function ref(path: string, gz: boolean): LogFileRef {
  try {
    return { path, gz, mtimeMs: Deno.statSync(path).mtime?.getTime() ?? 0 };
  } catch {
    return { path, gz, mtimeMs: -1 };
  }
}

/** The bytes of a log file, decompressed. */
export async function* fileChunks(f: LogFileRef): AsyncGenerator<Uint8Array> {
  const file = await Deno.open(f.path, { read: true });
  const stream = f.gz ? file.readable.pipeThrough(new DecompressionStream("gzip")) : file.readable;
  for await (const chunk of stream) yield chunk;
}

/** The lines of a stream of bytes (without their newline; a last partial line too). */
export async function* splitLines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let carry = new Uint8Array(0);
  for await (const chunk of chunks) {
    let data = chunk;
    if (carry.length) {
      data = new Uint8Array(carry.length + chunk.length);
      data.set(carry);
      data.set(chunk, carry.length);
    }
    let pos = 0;
    for (let nl = data.indexOf(NEWLINE); nl !== -1; nl = data.indexOf(NEWLINE, pos)) {
      yield data.subarray(pos, nl);
      pos = nl + 1;
    }
    carry = data.slice(pos);
  }
  if (carry.length) yield carry;
}

/** The time a line starts with (Unix ms), or null. */
export function timeOf(line: Uint8Array): number | null {
  return lineTime(dec.decode(line.subarray(0, 40)));
}

/** What `logs` prints: lines since `since` (if given), the last `last` of them (if given). */
export interface Selection {
  readonly since: number | null;
  readonly last: number | null;
}

/**
 * Write the selected lines of `files` through `out`. Without `since`, the last N lines are found
 * reading plain files from their end. With `since`, files last written before it are skipped;
 * in the others, lines with a time are kept from `since` on, and lines without one follow the
 * line before them (a log without timestamps is kept whole). Returns whether any file had no
 * timestamps (then `since` could only go by file times).
 */
export async function printSelection(
  files: readonly LogFileRef[],
  sel: Selection,
  out: (line: Uint8Array) => Promise<void>,
): Promise<{ unstamped: boolean }> {
  let unstamped = false;
  if (sel.since === null && sel.last !== null) {
    for (const line of await lastLines(files, sel.last)) await out(line);
    return { unstamped };
  }
  const ring: Uint8Array[] = [];
  const emit = async (line: Uint8Array) => {
    if (sel.last === null) return await out(line);
    ring.push(line.slice());
    if (ring.length > sel.last) ring.shift();
  };
  for (const f of files) {
    if (sel.since !== null && f.mtimeMs < sel.since) continue;
    let keep = sel.since === null, first = true;
    for await (const line of splitLines(fileChunks(f))) {
      if (sel.since !== null) {
        const t = timeOf(line);
        if (first && t === null) {
          unstamped = true;
          keep = true;
        }
        if (t !== null) keep = t >= sel.since;
        first = false;
      }
      if (keep) await emit(line);
    }
  }
  for (const line of ring) await out(line);
  return { unstamped };
}

/** The last `n` lines across `files` (oldest first in the result). */
export async function lastLines(files: readonly LogFileRef[], n: number): Promise<Uint8Array[]> {
  const found: Uint8Array[] = [];
  for (let i = files.length - 1; i >= 0 && found.length < n; i--) {
    const f = files[i]!;
    const lines = f.gz ? await allLines(f, n - found.length) : await tailLines(f, n - found.length);
    found.unshift(...lines);
  }
  return found.slice(Math.max(0, found.length - n));
}

async function allLines(f: LogFileRef, n: number): Promise<Uint8Array[]> {
  const ring: Uint8Array[] = [];
  for await (const line of splitLines(fileChunks(f))) {
    ring.push(line.slice());
    if (ring.length > n) ring.shift();
  }
  return ring;
}

/** The last `n` lines of a plain file, read backwards in chunks. */
export async function tailLines(f: LogFileRef, n: number): Promise<Uint8Array[]> {
  if (n <= 0) return [];
  using file = await Deno.open(f.path, { read: true });
  let pos = (await file.stat()).size;
  let tail = new Uint8Array(0);
  const lines: Uint8Array[] = [];
  let first = true;
  while (pos > 0 && lines.length < n) {
    const size = Math.min(CHUNK, pos);
    pos -= size;
    const chunk = new Uint8Array(size);
    await file.seek(pos, Deno.SeekMode.Start);
    let off = 0;
    while (off < size) {
      const r = await file.read(chunk.subarray(off));
      if (r === null) break;
      off += r;
    }
    const data = new Uint8Array(size + tail.length);
    data.set(chunk);
    data.set(tail, size);
    let end = data.length;
    if (first && end > 0 && data[end - 1] === NEWLINE) end--; // the file's last newline
    first = false;
    let nl = data.lastIndexOf(NEWLINE, end - 1);
    while (nl !== -1 && lines.length < n) {
      lines.unshift(data.slice(nl + 1, end));
      end = nl;
      nl = end > 0 ? data.lastIndexOf(NEWLINE, end - 1) : -1;
    }
    tail = data.slice(0, end);
  }
  if (pos === 0 && lines.length < n && tail.length) lines.unshift(tail);
  return lines;
}

/**
 * Follow the current file `path` (by name): call `out` with every byte written to it from
 * `offset` on, across rotations (the rest of the old file first), truncations (from the new end)
 * and a file that appears later. Returns when `signal` aborts. Woken by file-system events, and
 * once a second in case they are missed.
 */
export async function follow(
  path: string,
  offset: number,
  out: (bytes: Uint8Array) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  let file: Deno.FsFile | null = null;
  let ino: number | null = null;
  let pos = offset;
  const open = async () => {
    try {
      const f = await Deno.open(path, { read: true });
      const st = await f.stat();
      file?.close();
      file = f;
      ino = st.ino;
      return true;
    } catch {
      return false;
    }
  };
  const buf = new Uint8Array(CHUNK);
  const drain = async () => {
    if (!file) return;
    for (;;) {
      await file.seek(pos, Deno.SeekMode.Start);
      const r = await file.read(buf);
      if (r === null || r === 0) return;
      pos += r;
      await out(buf.slice(0, r));
    }
  };
  const check = async () => {
    if (!file && !(await open())) return;
    let st: Deno.FileInfo | null = null;
    try {
      st = await Deno.stat(path);
    } catch { /* rotated away, not recreated yet */ }
    if (st && st.ino !== ino) {
      await drain(); // the rest of the rotated file
      if (await open()) pos = 0;
    } else if (st && st.size < pos) {
      pos = st.size; // truncated (copytruncate): go on from its new end
    }
    await drain();
  };
  await open();
  let watcher: Deno.FsWatcher | null = null;
  try {
    watcher = Deno.watchFs(dir, { recursive: false });
  } catch { /* fall back to the timer */ }
  const iterator = watcher?.[Symbol.asyncIterator]();
  signal.addEventListener("abort", () => watcher?.close(), { once: true });
  try {
    while (!signal.aborted) {
      await check();
      let timer: number | undefined;
      const tick = new Promise<void>((r) => timer = Number(setTimeout(r, 1000)));
      await Promise.race([tick, iterator ? iterator.next().then(() => {}) : tick]);
      clearTimeout(timer);
    }
  } finally {
    watcher?.close();
    (file as Deno.FsFile | null)?.close();
  }
}
