/**
 * The children Deno itself spawned and reaps (`Deno.Command`: the daemon's exec health checks).
 * The daemon reaps every other child of its own, on sight; these it must leave to Deno, whose
 * `child.status` would otherwise never learn how they ended. Whoever spawns one adds its pid at
 * once (before any other task can run) and removes it once Deno has its status.
 */

const pids = new Set<number>();

export const denoChildren = {
  add(pid: number): void {
    pids.add(pid);
  },
  delete(pid: number): void {
    pids.delete(pid);
  },
  has(pid: number): boolean {
    return pids.has(pid);
  },
};
