/**
 * Rotation and retention on disk, with async calls only (the blocking thread pool): list the log
 * dir, carry out lib/log/rotation.ts's plan (renames, oldest first; removals), gzip the new
 * `JOB.log.1` in the background when asked (written to `JOB.log.1.gz.tmp`, renamed into place,
 * then the plain file removed: a compression cut short leaves the plain file, never a broken
 * `.gz`), and remove rotated files past their age.
 */

import { expiredFiles, planRotation, rotatedFiles, rotatedName } from "./rotation.ts";

/** The names in `dir` that belong to log `base` (the file and its rotated files). */
async function namesOf(dir: string, base: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.name === base || e.name.startsWith(`${base}.`)) out.push(e.name);
  }
  return out;
}

function words(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  const i = m.indexOf(" (os error");
  return i > 0 ? m.slice(0, i) : m;
}

/**
 * Rotate `dir/base`: shift the old files up, drop what passes `keep`, rename the current file to
 * `base.1`. The caller opens a new current file after. Throws Error with the system's words when
 * the current file cannot be moved (then nothing was lost: it is still the current file).
 */
export async function rotateFiles(dir: string, base: string, keep: number): Promise<void> {
  const names = await namesOf(dir, base);
  for (const name of names) {
    // A compression cut short (the daemon stopped meanwhile): its plain file is still there.
    if (/^\.\d+\.gz\.tmp$/.test(name.slice(base.length))) {
      await Deno.remove(`${dir}/${name}`).catch(() => {});
    }
  }
  for (const step of planRotation(base, names, keep)) {
    if ("remove" in step) {
      try {
        await Deno.remove(`${dir}/${step.remove}`);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound) && step.remove === base) {
          throw new Error(`cannot remove ${dir}/${base}: ${words(e)}`);
        }
      }
      continue;
    }
    try {
      await Deno.rename(`${dir}/${step.rename}`, `${dir}/${step.to}`);
    } catch (e) {
      if (step.rename === base && !(e instanceof Deno.errors.NotFound)) {
        throw new Error(`cannot rotate ${dir}/${base}: ${words(e)}`);
      }
    }
  }
}

/** gzip `dir/base.1` into `dir/base.1.gz` (the plain file removed once the .gz is in place). */
export async function compressRotated(dir: string, base: string): Promise<void> {
  const plain = `${dir}/${rotatedName(base, 1, false)}`;
  const gz = `${dir}/${rotatedName(base, 1, true)}`;
  const tmp = `${gz}.tmp`;
  let src: Deno.FsFile | null = null;
  try {
    src = await Deno.open(plain, { read: true });
    const dst = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: 0o640 });
    await src.readable.pipeThrough(new CompressionStream("gzip")).pipeTo(dst.writable);
    src = null; // closed by the stream
    await Deno.rename(tmp, gz);
    await Deno.remove(plain);
  } catch {
    try {
      src?.close();
    } catch { /* closed */ }
    try {
      await Deno.remove(tmp);
    } catch { /* not there */ }
  }
}

/** Remove the rotated files of `dir/base` older than `maxAgeSeconds`; returns their names. */
export async function expireRotated(
  dir: string,
  base: string,
  maxAgeSeconds: number,
  nowMs: number,
): Promise<string[]> {
  const files: { name: string; mtimeMs: number }[] = [];
  for (const f of rotatedFiles(base, await namesOf(dir, base))) {
    try {
      const st = await Deno.lstat(`${dir}/${f.name}`);
      files.push({ name: f.name, mtimeMs: st.mtime?.getTime() ?? nowMs });
    } catch { /* gone */ }
  }
  const old = expiredFiles(files, nowMs, maxAgeSeconds);
  for (const name of old) {
    try {
      await Deno.remove(`${dir}/${name}`);
    } catch { /* gone */ }
  }
  return old;
}
