/**
 * User and group lookup for `setuid` / `setgid`: pure parsers of `/etc/passwd` and `/etc/group`
 * text, and a loader that reads them from disk (a chroot job's from inside its chroot). Names that
 * are all digits resolve as numeric ids, as `chown` does, when no entry has that name.
 */

export interface UserEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

export interface UserDb {
  user(name: string): { uid: number; gid: number; home: string; name: string } | null;
  group(name: string): { gid: number } | null;
  /** Supplementary group ids of a user (groups listing it as a member), for initgroups. */
  groupsOf?(name: string): number[];
}

/** Parse `/etc/passwd` text: `name:pw:uid:gid:gecos:home:shell`, skipping bad lines. */
export function parsePasswd(text: string): UserEntry[] {
  const out: UserEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 7 || !f[0] || line.startsWith("#")) continue;
    const uid = Number(f[2]), gid = Number(f[3]);
    if (!/^\d+$/.test(f[2] ?? "") || !/^\d+$/.test(f[3] ?? "")) continue;
    out.push({ name: f[0], uid, gid, home: f[5] ?? "/" });
  }
  return out;
}

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

/** Parse `/etc/group` text: `name:pw:gid:member,member`, skipping bad lines. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 4 || !f[0] || line.startsWith("#") || !/^\d+$/.test(f[2] ?? "")) continue;
    out.push({ name: f[0], gid: Number(f[2]), members: (f[3] ?? "").split(",").filter(Boolean) });
  }
  return out;
}

/** A UserDb over parsed entries (pure). */
export function userDbFrom(users: readonly UserEntry[], groups: readonly GroupEntry[]): UserDb {
  const byName = new Map(users.map((u) => [u.name, u]));
  const byUid = new Map<number, UserEntry>();
  for (const u of users) if (!byUid.has(u.uid)) byUid.set(u.uid, u);
  const groupByName = new Map(groups.map((g) => [g.name, g]));
  return {
    user(name) {
      const u = byName.get(name);
      if (u) return { ...u };
      if (!/^\d+$/.test(name)) return null;
      const uid = Number(name);
      const known = byUid.get(uid);
      return known ? { ...known } : { name, uid, gid: uid, home: "/" };
    },
    group(name) {
      const g = groupByName.get(name);
      if (g) return { gid: g.gid };
      return /^\d+$/.test(name) ? { gid: Number(name) } : null;
    },
    groupsOf(name) {
      return groups.filter((g) => g.members.includes(name)).map((g) => g.gid);
    },
  };
}

/**
 * The user database a job's `setuid`/`setgid` names are looked up in: the chroot's own
 * /etc/passwd and /etc/group for a job with `chroot`, as Upstart looks them up after its chroot();
 * the host's (`host`) otherwise.
 */
export function userDbForJob(
  job: {
    readonly chroot: string | null;
    readonly setuid: string | null;
    readonly setgid: string | null;
  },
  host: () => UserDb,
): UserDb {
  return job.chroot !== null && (job.setuid !== null || job.setgid !== null)
    ? loadUserDb(job.chroot)
    : host();
}

/** Read `ROOT/etc/passwd` and `ROOT/etc/group` (missing files count as empty). */
export function loadUserDb(root = ""): UserDb {
  const read = (p: string) => {
    try {
      return Deno.readTextFileSync(`${root.replace(/\/$/, "")}${p}`);
    } catch {
      return "";
    }
  };
  return userDbFrom(parsePasswd(read("/etc/passwd")), parseGroup(read("/etc/group")));
}
