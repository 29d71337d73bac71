/**
 * The daemon's own directories (state, log, socket): created mode 0755 when missing, then checked
 * as sshd's StrictModes would: each must be a directory owned by the daemon's user (or root) and
 * writable by nobody else, and none of the directories above it may be writable by others unless
 * sticky. A directory someone else created first (a guessable path in /tmp, say) is refused, so
 * nobody can plant a symlink where the daemon writes its lock, logs or socket.
 */

import { dirModeProblem, fileModeProblem } from "../job/strict_modes.ts";

/** Directory mode the daemon creates its directories with (others need to reach the .ro socket). */
export const DAEMON_DIR_MODE = 0o755;

/** Create and check `dirs`; returns one line saying what is wrong, or null when all are safe. */
export function prepareDaemonDirs(dirs: readonly string[], uid = Deno.uid() ?? 0): string | null {
  const trusted = uid === 0 ? [0] : [uid, 0];
  for (const dir of dirs) {
    try {
      Deno.mkdirSync(dir, { recursive: true, mode: DAEMON_DIR_MODE });
    } catch (e) {
      return `cannot create ${dir}: ${e instanceof Error ? e.message : e}`;
    }
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(dir);
      if (info.isSymlink) info = Deno.statSync(dir);
    } catch (e) {
      return `cannot use ${dir}: ${e instanceof Error ? e.message : e}`;
    }
    if (!info.isDirectory) return `refusing ${dir}: not a directory`;
    const own = fileModeProblem(info, trusted);
    if (own) return `refusing ${dir}: it is ${own} (chown it to uid ${uid} and chmod go-w it)`;
    const real = Deno.realPathSync(dir);
    for (let p = parent(real); p !== null; p = parent(p)) {
      const problem = dirModeProblem(Deno.statSync(p), trusted);
      if (problem) return `refusing ${dir}: the directory ${p} above it is ${problem}`;
    }
  }
  return null;
}

function parent(path: string): string | null {
  if (path === "/") return null;
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}
