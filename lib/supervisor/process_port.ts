/**
 * The real ProcessPort: spawns job processes through lib/process (plan + Deno.Command), kills
 * process groups, follows forks of `expect fork`/`expect daemon` jobs (we are a child subreaper, so
 * orphans come to us), and reaps orphans Deno did not spawn (never `waitpid(-1)`: only the pids
 * Deno does not track, see ../shared/deno-notes.md 5b).
 */

import { planProcess } from "../process/plan.ts";
import { canFastSpawn, fastSpawn } from "../process/fast_spawn.ts";
import { killProcess, killProcessGroup, spawnPlan } from "../process/spawn.ts";
import { waitpidNoHang } from "../process/ffi.ts";
import { childrenOf, processGroupMembers, readEnviron, readProcStat } from "../process/proc.ts";
import type { UserDb } from "../process/users.ts";
import type { ExitStatus } from "./instance.ts";
import type { ProcessPort, SpawnRequest } from "./supervisor.ts";

export class RealProcessPort implements ProcessPort {
  /** Pids Deno spawned and still tracks (never waitpid'ed by us). */
  readonly #ours = new Set<number>();
  /** Foreign pids we follow (forked daemons), with their exit callbacks. */
  readonly #watched = new Map<number, (status: ExitStatus) => void>();
  readonly #ownGroup: number;

  constructor(
    private readonly users: () => UserDb,
    private readonly daemonUmask: number,
  ) {
    this.#ownGroup = readProcStat(Deno.pid)?.pgrp ?? Deno.pid;
  }

  spawn(req: SpawnRequest): number {
    const base = {
      job: req.job,
      kind: req.kind,
      env: req.env,
      users: this.users(),
      daemonUmask: this.daemonUmask,
    };
    // Fast path: posix_spawn in a new session, the log opened by the spawn itself.
    const direct = planProcess({ ...base, logFile: null });
    if ("error" in direct) throw new Error(direct.error);
    if (canFastSpawn(direct.plan)) {
      const output = req.logFile !== null ? { file: req.logFile } : null;
      const pid = fastSpawn(direct.plan, output);
      this.#ours.add(pid);
      this.#fast.set(pid, req.onExit);
      return pid;
    }
    const planned = req.logFile === null ? direct : planProcess({ ...base, logFile: req.logFile });
    if ("error" in planned) throw new Error(planned.error);
    const proc = spawnPlan(planned.plan);
    const pid = proc.pid;
    this.#ours.add(pid);
    proc.exited.then((status) => {
      this.#ours.delete(pid);
      req.onExit(status);
    }, (e) => {
      this.#ours.delete(pid);
      req.onExit({ code: 255, signal: null });
      console.error(`upkeep: lost track of process ${pid}: ${e}`);
    });
    return pid;
  }

  /** Children spawned by posix_spawn (unknown to Deno): reaped by us on SIGCHLD. */
  readonly #fast = new Map<number, (status: ExitStatus) => void>();

  kill(pid: number, signal: string, killTimeoutMs: number): void {
    const pgid = readProcStat(pid)?.pgrp ?? pid;
    if (pgid > 1 && pgid !== this.#ownGroup) {
      killProcessGroup(pgid, signal);
      if (signal !== "KILL") this.#sweepGroupLater(pgid, killTimeoutMs);
    }
    if (pgid !== pid) killProcess(pid, signal);
  }

  /** After the kill timeout, SIGKILL whatever is left of the group: no orphan survives a stop. */
  #sweepGroupLater(pgid: number, ms: number): void {
    const id = setTimeout(() => {
      if (processGroupMembers(pgid).length) killProcessGroup(pgid, "KILL");
    }, ms + 50);
    Deno.unrefTimer(id);
  }

  findFork(_parent: number, job: string, instance: string): { pid: number; final: boolean } | null {
    let found: number | null = null;
    for (const pid of childrenOf(Deno.pid)) {
      if (this.#ours.has(pid) || this.#watched.has(pid)) continue;
      const st = readProcStat(pid);
      if (!st || st.state === "Z") continue;
      const env = readEnviron(pid);
      if (env?.UPSTART_JOB === job && (env.UPSTART_INSTANCE ?? "") === instance) {
        if (found === null || pid > found) found = pid;
      }
    }
    if (found === null) return null;
    const st = readProcStat(found);
    return { pid: found, final: st !== null && st.session !== found };
  }

  watch(pid: number, onExit: (status: ExitStatus) => void): void {
    this.#watched.set(pid, onExit);
    this.reap();
  }

  /** On SIGCHLD: collect followed daemons that ended; orphan zombies are swept a bit later. */
  reap(): void {
    for (const [pid, onExit] of this.#fast) {
      const status = waitpidNoHang(pid);
      if (status) {
        this.#fast.delete(pid);
        this.#ours.delete(pid);
        onExit(status);
      }
    }
    for (const [pid, onExit] of this.#watched) {
      const status = waitpidNoHang(pid);
      if (status) {
        this.#watched.delete(pid);
        onExit(status);
      } else if (!readProcStat(pid)) {
        this.#watched.delete(pid);
        onExit({ code: null, signal: null });
      }
    }
    // Listing our children may mean a full /proc scan (kernels without task/*/children), so the
    // orphan sweep runs at most once per 1.2 s, off the respawn path.
    if (this.#sweep === undefined) {
      this.#sweep = Number(setTimeout(() => {
        this.#sweep = undefined;
        if (this.#sweepOrphans()) this.reap();
      }, 1200));
      Deno.unrefTimer(this.#sweep);
    }
  }

  #sweep: number | undefined;

  /**
   * Orphans (a job's grandchildren, reparented to us as subreaper) become zombies that Deno never
   * reaps. A zombie Deno spawned itself (a health check, say) is reaped by Deno within
   * milliseconds, so only a zombie seen on an earlier sweep at least a second ago is ours to reap.
   * Returns true while zombies remain to look at again.
   */
  #sweepOrphans(): boolean {
    const now = performance.now();
    const seen = new Map<number, number>();
    for (const pid of childrenOf(Deno.pid)) {
      if (this.#ours.has(pid) || this.#watched.has(pid)) continue;
      if (readProcStat(pid)?.state !== "Z") continue;
      const first = this.#zombies.get(pid) ?? now;
      if (now - first >= 1000) waitpidNoHang(pid);
      else seen.set(pid, first);
    }
    this.#zombies = seen;
    return seen.size > 0;
  }

  #zombies = new Map<number, number>();
}
