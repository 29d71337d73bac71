/**
 * The open-files limit this process was given. Deno raises its own soft RLIMIT_NOFILE to the hard
 * limit in `main()`, before any JavaScript runs (deno's cli/util/unix.rs `raise_fd_limit`, in
 * `deno run` and in compiled binaries alike); nothing else is changed. The original soft value is
 * gone from this process, so it is recovered, in this order, from:
 *
 *   1. `UPKEEP_NOFILE` in the environment: what an upkeep that started us recorded (the watchdog
 *      does), or what a boot script says (`UPKEEP_NOFILE=$(ulimit -Sn) exec upkeep daemon`);
 *   2. the parent process's soft limit, when its hard limit equals ours (we inherited it);
 *   3. min(1024, hard): the kernel's default soft limit, which systemd also gives services.
 *
 * Jobs start with that soft limit (and our unchanged hard limit), then their own `limit` stanzas.
 * Only the parsing and the choice are pure; `originalNofile()` reads /proc.
 */

import { getNofile, setOwnNofileSoft } from "./fast_spawn.ts";

export interface NofileLimit {
  readonly soft: number;
  readonly hard: number;
  /** Where the soft value came from, for the daemon log. */
  readonly source: string;
}

/** The soft and hard "Max open files" of a /proc/PID/limits text (Infinity for unlimited). */
export function parseNofile(text: string): { soft: number; hard: number } | null {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) return null;
  const num = (s: string) => s === "unlimited" ? Infinity : Number(s);
  const soft = num(m[1]!), hard = num(m[2]!);
  return Number.isNaN(soft) || Number.isNaN(hard) ? null : { soft, hard };
}

/** Choose the original soft limit (see the module comment). Pure. */
export function chooseNofile(
  current: { soft: number; hard: number },
  fromEnv: string | undefined,
  parent: { soft: number; hard: number } | null,
): NofileLimit {
  const { hard } = current;
  if (fromEnv !== undefined && /^\d+$/.test(fromEnv)) {
    const soft = Math.min(Number(fromEnv), hard);
    return { soft, hard, source: "UPKEEP_NOFILE" };
  }
  if (parent && parent.hard === hard) {
    return { soft: Math.min(parent.soft, hard), hard, source: "the parent process" };
  }
  return { soft: Math.min(1024, hard), hard, source: "the default (1024)" };
}

let recorded: NofileLimit | null | undefined;

/** The original RLIMIT_NOFILE of this process (computed once); null without FFI. */
export function originalNofile(): NofileLimit | null {
  if (recorded !== undefined) return recorded;
  const current = getNofile();
  if (current === null) return recorded = null;
  let parent: { soft: number; hard: number } | null = null;
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid > 0) parent = parseNofile(Deno.readTextFileSync(`/proc/${ppid}/limits`));
  } catch { /* no parent to ask */ }
  return recorded = chooseNofile(current, Deno.env.get("UPKEEP_NOFILE"), parent);
}

/** Put this process's own soft limit back to the original (for `upkeep run`, which needs few fds). */
export function restoreOriginalNofile(): void {
  const original = originalNofile();
  if (original) setOwnNofileSoft(original.soft);
}
