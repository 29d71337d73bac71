/**
 * Descriptors the log pipeline leaves free. Each `console log` instance holds a pipe in the daemon
 * (and its log file while it writes): left unbounded, they fill the fd table, and then not only the
 * sockets fail: Deno itself panics on some calls that need a descriptor. So a log pipe is not
 * opened (the job then writes its log file itself) and quiet log files are closed once fewer than
 * `keepFree(limit)` descriptors are free: 3/8 of the limit (the two sockets' caps take at most 1/4,
 * lib/control/server.ts), at least 16. The count is read from /proc/self/fd only when the pipeline
 * holds enough descriptors to come near.
 */

import { getNofile } from "../process/fast_spawn.ts";

/** Descriptors left free under an open-files limit of `limit`. */
export function keepFree(limit: number): number {
  return Number.isFinite(limit) ? Math.max(16, Math.ceil((limit * 3) / 8)) : 0;
}

/**
 * Why a descriptor for the log pipeline may not be taken now, in the system's words, or null.
 * `held`: descriptors the pipeline holds (a cheap lower bound of those open).
 */
export function descriptorShortage(held: number): string | null {
  const limit = getNofile()?.soft ?? Infinity;
  const free = keepFree(limit);
  if (limit - held > free + 64) return null; // far from it: no need to count
  let open: number;
  try {
    open = [...Deno.readDirSync("/proc/self/fd")].length;
  } catch {
    return null; // no /proc: the kernel says EMFILE when it must
  }
  if (limit - open >= free) return null;
  return `Too many open files (${open} of ${limit} in use; upkeep keeps ${free} free for itself)`;
}
