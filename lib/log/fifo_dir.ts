/**
 * Where the log FIFOs live. Making a FIFO allocates an inode: a few microseconds on tmpfs, up to a
 * millisecond on ext4 (most right after many files were deleted nearby, as in a state directory
 * made afresh under /tmp), paid once per instance, so 1,000 jobs spent most of their start-up
 * there. The FIFOs hold nothing across a reboot anyway, so they belong on tmpfs:
 *
 * - in STATE_DIR/logs when the state directory is on tmpfs (the default, /run/upkeep);
 * - else in a private directory of /dev/shm named after the state directory,
 *   `/dev/shm/upkeep-UID-HASH` (mode 0700, owned by the daemon's user), found again by the next
 *   daemon on the same state directory;
 * - else (no tmpfs /dev/shm, or something there that is not our private directory) in
 *   STATE_DIR/logs after all.
 */

const SHM = "/dev/shm";
const MEMORY_FILESYSTEMS = new Set(["tmpfs", "ramfs"]);

/** The filesystem type `path` is on, from /proc/self/mountinfo (longest mount point), or null. */
export function filesystemOf(path: string, mountinfo?: string): string | null {
  let text = mountinfo;
  if (text === undefined) {
    try {
      text = Deno.readTextFileSync("/proc/self/mountinfo");
    } catch {
      return null;
    }
  }
  let best = -1;
  let type: string | null = null;
  for (const line of text.split("\n")) {
    const dash = line.indexOf(" - ");
    if (dash < 0) continue;
    const point = unescape(line.slice(0, dash).split(" ")[4] ?? "");
    const under = point === "/" || path === point || path.startsWith(`${point}/`);
    if (!under || point.length <= best) continue;
    best = point.length;
    type = line.slice(dash + 3).split(" ")[0] ?? null;
  }
  return type;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** 64-bit FNV-1a of `s`, 16 hex digits. */
export function pathHash(s: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(s)) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}

/** A directory of ours alone: a real directory (no symlink), owned by `uid`, mode 0700. */
function privateDir(path: string, uid: number): boolean {
  try {
    const st = Deno.lstatSync(path);
    return st.isDirectory && !st.isSymlink && st.uid === uid && ((st.mode ?? 0) & 0o777) === 0o700;
  } catch {
    return false;
  }
}

/**
 * The FIFO directory for a daemon whose state directory is `stateDir` (absolute). `fallback`
 * (STATE_DIR/logs) when the state directory is on tmpfs or /dev/shm cannot be used safely; the
 * reason is passed to `note` then, if there is one worth telling.
 */
export function fifoDirFor(stateDir: string, fallback: string, note: (m: string) => void): string {
  let real = stateDir;
  try {
    real = Deno.realPathSync(stateDir);
  } catch { /* not made yet: its own path */ }
  let mountinfo: string;
  try {
    mountinfo = Deno.readTextFileSync("/proc/self/mountinfo"); // once, for both questions
  } catch {
    return fallback;
  }
  const fs = filesystemOf(real, mountinfo);
  if (fs === null || MEMORY_FILESYSTEMS.has(fs)) return fallback;
  if (!MEMORY_FILESYSTEMS.has(filesystemOf(SHM, mountinfo) ?? "")) return fallback;
  const uid = Deno.uid() ?? 0;
  const dir = `${SHM}/upkeep-${uid}-${pathHash(real)}`;
  try {
    Deno.mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) {
      note(`cannot make ${dir} (${e instanceof Error ? e.message : e}): log pipes in ${fallback}`);
      return fallback;
    }
  }
  if (!privateDir(dir, uid)) {
    note(`${dir} is not a private directory of this user: log pipes in ${fallback}`);
    return fallback;
  }
  return dir;
}
