/**
 * StrictModes, as sshd has them: a file that root will act on (a job file, whose commands root
 * runs) must be one that only root can change. A job file, and every directory from `/` down to
 * it, must be owned by a trusted user (root; or the daemon's own user for a non-root daemon's own
 * directories); the file and the directories inside a conf dir must not be writable by group or
 * others; directories above may be group-writable (Debian's /var/log is root:syslog 0775) but not
 * writable by others unless sticky (/tmp). Symlinks are followed and the target is what is judged.
 *
 * `fileModeProblem` and `dirModeProblem` are pure; `StrictModes` caches verdicts for one load.
 */

/** What StrictModes needs to know of a file or directory. */
export interface ModeInfo {
  readonly uid: number | null;
  readonly mode: number | null;
}

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, "0");

function ownerProblem(info: ModeInfo, trusted: readonly number[]): string | null {
  if (info.uid === null || trusted.includes(info.uid)) return null;
  const who = trusted.length === 1 && trusted[0] === 0 ? "root" : `uid ${trusted.join(" or ")}`;
  return `owned by uid ${info.uid}, not ${who}`;
}

/** Why a file (or a directory inside a conf dir) is unsafe, or null. */
export function fileModeProblem(info: ModeInfo, trusted: readonly number[]): string | null {
  const owner = ownerProblem(info, trusted);
  if (owner) return owner;
  if (info.mode !== null && (info.mode & 0o022) !== 0) {
    return `writable by ${info.mode & 0o020 ? "group" : "others"} (mode ${octal(info.mode)})`;
  }
  return null;
}

/** Why a directory above the files is unsafe (others may write it, not sticky), or null. */
export function dirModeProblem(info: ModeInfo, trusted: readonly number[]): string | null {
  const owner = ownerProblem(info, trusted);
  if (owner) return owner;
  if (info.mode !== null && (info.mode & 0o002) !== 0 && (info.mode & 0o1000) === 0) {
    return `writable by others (mode ${octal(info.mode)})`;
  }
  return null;
}

function parentOf(path: string): string | null {
  if (path === "/") return null;
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** The refusal the daemon and check-config print for an unsafe job file (after `FILE:0: `). */
export function refusal(problem: string): string {
  return `job file refused: ${problem}; only root may be able to change what root runs`;
}

/** StrictModes checks with the verdicts on directories cached (one instance per load). */
export class StrictModes {
  readonly #dirs = new Map<string, string | null>();

  constructor(readonly trusted: readonly number[] = [0]) {}

  /**
   * Why the job file at `path` must not be used (the diagnostic's message), or null. `confDir` is the conf dir it was found
   * in (its subdirectories are held to the file rule); the real path is judged.
   */
  fileProblem(path: string, confDir: string | null): string | null {
    let real: string, info: Deno.FileInfo;
    try {
      // A plain file is its own real path (its directories are judged one by one below); only a
      // symbolic link costs a realpath.
      info = Deno.lstatSync(path);
      real = path;
      if (info.isSymlink) {
        real = Deno.realPathSync(path);
        info = Deno.statSync(real);
      }
    } catch {
      return null; // reading it reports what is wrong
    }
    const own = fileModeProblem(info, this.trusted);
    if (own) return refusal(`${real === path ? "it" : real} is ${own}`);
    const realConf = confDir === null ? null : this.#realDir(confDir);
    for (let dir = parentOf(real); dir !== null; dir = parentOf(dir)) {
      const inside = realConf !== null && (dir === realConf || dir.startsWith(`${realConf}/`));
      const problem = this.#dirProblem(dir, inside);
      if (problem) return refusal(`directory ${problem}`);
    }
    return null;
  }

  readonly #real = new Map<string, string | null>();

  /** The real path of a conf dir, once per load. */
  #realDir(dir: string): string | null {
    if (!this.#real.has(dir)) {
      let real: string | null = null;
      try {
        real = Deno.realPathSync(dir);
      } catch { /* gone */ }
      this.#real.set(dir, real);
    }
    return this.#real.get(dir)!;
  }

  #dirProblem(dir: string, inside: boolean): string | null {
    const key = `${inside ? "i" : "o"}${dir}`;
    if (this.#dirs.has(key)) return this.#dirs.get(key)!;
    let problem: string | null = null;
    try {
      const info = Deno.statSync(dir);
      const p = inside ? fileModeProblem(info, this.trusted) : dirModeProblem(info, this.trusted);
      if (p) problem = `${dir} is ${p}`;
    } catch { /* not there: reading reports it */ }
    this.#dirs.set(key, problem);
    return problem;
  }
}
