/**
 * Job processes left behind by an upkeep daemon that died (kill -9, crash, OOM). Every job process
 * carries `UPKEEP_SOCKET=<its daemon's socket>` in its environment; once a new daemon holds the
 * state dir's lock, any live process with that marker belongs to a dead predecessor. Until upkeep
 * can adopt such jobs, the new daemon stops them (TERM to each process group, KILL after a
 * timeout) before starting jobs itself, so that every job runs once, never twice.
 *
 * `findLeftovers` is pure over a /proc reader; `stopLeftoverJobs` does the /proc reading, the
 * signals and the waiting.
 */

/** A live process of a leftover job. */
export interface Leftover {
  readonly pid: number;
  readonly pgid: number;
  /** `UPSTART_JOB` of the process, or "" when absent. */
  readonly job: string;
}

/** What findLeftovers reads for one pid; null when the process is gone or unreadable. */
export interface ProcInfo {
  /** NUL-separated environment, as in /proc/PID/environ. */
  readonly environ: string;
  /** The text of /proc/PID/stat. */
  readonly stat: string;
}

/** Parse pgid and state out of /proc/PID/stat (fields after the parenthesised comm). */
export function parseStat(stat: string): { state: string; pgid: number } | null {
  const close = stat.lastIndexOf(")");
  if (close < 0) return null;
  const fields = stat.slice(close + 2).split(" ");
  const pgid = Number(fields[2]);
  return fields[0] && Number.isInteger(pgid) ? { state: fields[0], pgid } : null;
}

/** The live processes (not zombies, not `self`) whose environment names `socket`. */
export function findLeftovers(
  pids: readonly number[],
  read: (pid: number) => ProcInfo | null,
  socket: string,
  self: number,
): Leftover[] {
  const marker = `UPKEEP_SOCKET=${socket}`;
  const out: Leftover[] = [];
  for (const pid of pids) {
    if (pid === self) continue;
    const info = read(pid);
    if (!info) continue;
    const env = info.environ.split("\0");
    if (!env.includes(marker)) continue;
    const st = parseStat(info.stat);
    if (!st || st.state === "Z" || st.state === "X") continue;
    const job = env.find((v) => v.startsWith("UPSTART_JOB="))?.slice("UPSTART_JOB=".length) ?? "";
    out.push({ pid, pgid: st.pgid, job });
  }
  return out;
}

function scan(socket: string): Leftover[] {
  const pids: number[] = [];
  for (const e of Deno.readDirSync("/proc")) if (/^\d+$/.test(e.name)) pids.push(Number(e.name));
  return findLeftovers(
    pids,
    (pid) => {
      try {
        return {
          environ: Deno.readTextFileSync(`/proc/${pid}/environ`),
          stat: Deno.readTextFileSync(`/proc/${pid}/stat`),
        };
      } catch {
        return null;
      }
    },
    socket,
    Deno.pid,
  );
}

/** This process's group: never signalled, whatever a stray environment says. */
function ownPgid(): number {
  return parseStat(Deno.readTextFileSync("/proc/self/stat"))?.pgid ?? -1;
}

function signal(targets: readonly Leftover[], sig: Deno.Signal): void {
  const own = ownPgid();
  for (const pgid of new Set(targets.map((t) => t.pgid))) {
    if (pgid <= 1 || pgid === own) continue;
    try {
      Deno.kill(-pgid, sig);
    } catch { /* group gone */ }
  }
  for (const t of targets) {
    try {
      Deno.kill(t.pid, sig);
    } catch { /* gone */ }
  }
}

/**
 * Stop every leftover job process of the daemon whose socket is `socket`: SIGTERM to their
 * process groups, SIGKILL to what is left after `timeoutMs`. Returns what was found (empty when
 * nothing was left behind, the usual case: then it costs one /proc scan).
 */
export async function stopLeftoverJobs(socket: string, timeoutMs = 5000): Promise<Leftover[]> {
  const found = scan(socket);
  if (found.length === 0) return found;
  signal(found, "SIGTERM");
  const deadline = performance.now() + timeoutMs;
  let left = found;
  while (left.length > 0 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    left = scan(socket);
  }
  if (left.length > 0) signal(left, "SIGKILL");
  return found;
}
