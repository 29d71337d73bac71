/**
 * The real ProcessPort: spawns every job process through lib/process (plan, then posix_spawn;
 * upkeep's set-up helper when a stanza needs privileged set-up), kills process groups, follows the forks of `expect fork`/`expect daemon` jobs
 * (by ptrace, lib/process/fork_follow.ts; by the process tree where ptrace is refused), sees the
 * self-stop of `expect stop` jobs, and reaps every process Deno did not spawn itself with
 * waitpid on that pid (never `waitpid(-1)`: see ../shared/deno-notes.md 5b).
 */

import { type HelperCommand, planProcess } from "../process/plan.ts";
import { SetupPipes, spawnProcess } from "../process/fast_spawn.ts";
import { killProcess, killProcessGroup } from "../process/spawn.ts";
import { endedChild, waitpidNoHang } from "../process/ffi.ts";
import {
  allProcStats,
  childrenOf,
  processGroupMembers,
  readEnviron,
  readProcStat,
} from "../process/proc.ts";
import { FOLLOW_WRAPPER, ForkFollower } from "../process/fork_follow.ts";
import { systemTrace, type TraceSys } from "../process/ptrace.ts";
import { signalNumber } from "../process/signals.ts";
import { ExitWatcher } from "../process/exit_watch.ts";
import { denoChildren } from "../process/deno_children.ts";
import { type UserDb, userDbForJob } from "../process/users.ts";
import type { ExitStatus } from "./instance.ts";
import type { ProcessPort, SpawnRequest } from "./supervisor.ts";
import type { UnrecordedQuery } from "./ports.ts";
import { setLongTimeout } from "./long_timers.ts";

type OnExit = (pid: number, status: ExitStatus, strays: number | null) => void;

/** How often groups being emptied are looked at when no SIGCHLD says anything (ms). */
const EMPTYING_POLL_MS = 100;

/** Exits handed on this soon after the last ones wait for a task of their own (ms). */
const DELIVER_QUIET_MS = 10;
/** At most this many ended children reaped by one reap() (the next turn takes the rest). */
const REAP_BATCH = 1024;

/** A process we reap ourselves (posix_spawn'ed, or a followed daemon reparented to us). */
interface Reaped {
  readonly onExit: OnExit;
  /** expect stop: told once when the process stops itself. */
  onStopped?: () => void;
  /** A main process: the groups its leftovers may be in (checked when it ends). */
  readonly groups?: readonly number[];
  /** Not (yet) our child: a followed daemon whose parent may still reap it before we can. */
  readonly foreign?: boolean;
  /** A set-up helper: told instead of `onExit` when it ends having failed (its message). */
  readonly onSetupFailed?: (pid: number, message: string) => void;
}

/** The system's words in a Deno error: "No space left on device", not "... (os error 28): ...". */
function osWords(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  const i = m.indexOf(" (os error");
  return i > 0 ? m.slice(0, i) : m;
}

/**
 * What posix_spawn would only report as a bare errno, checked first so that a failure names its
 * cause: the `chdir` directory, and the log file (opened as the job's output will be).
 */
function checkBeforeSpawn(req: SpawnRequest): void {
  const dir = req.job.chroot === null ? req.job.chdir : null;
  if (dir !== null) {
    let isDir: boolean;
    try {
      isDir = Deno.statSync(dir).isDirectory;
    } catch (e) {
      throw new Error(`cannot change to directory ${dir}: ${osWords(e)}`);
    }
    if (!isDir) throw new Error(`cannot change to directory ${dir}: Not a directory`);
  }
  // Through the daemon's pipe, the daemon opens the log (never through a symbolic link), and a
  // log that cannot be written does not stop the job (lib/log).
  if (req.logFile !== null && !req.logPipe) {
    let link = false;
    try {
      link = Deno.lstatSync(req.logFile).isSymlink;
    } catch { /* not there yet */ }
    if (link) throw new Error(`cannot open log ${req.logFile}: it is a symbolic link`);
    try {
      Deno.openSync(req.logFile, { append: true, create: true, mode: 0o640 }).close();
    } catch (e) {
      throw new Error(`cannot open log ${req.logFile}: ${osWords(e)}`);
    }
  }
}

export interface SignalDeps {
  /** The daemon's own process group (never signalled as a group). */
  readonly ownGroup: number;
  /** The process group of `pid` now, or null when it is gone. */
  readonly groupOf: (pid: number) => number | null;
  readonly killGroup: (pgid: number, signal: string) => void;
  readonly killOne: (pid: number, signal: string) => void;
}

/**
 * Send `signal` to process `pid` and the rest of its process group, each process once: as Upstart
 * does, to the group (kill(-pgid)), which holds the process; to the process itself only when the
 * group cannot be signalled (the daemon's own, or none) or when the process left it meanwhile (a
 * daemon's setsid between the look and the kill). A second SIGTERM straight to a process the group
 * signal reached too is one many programs take for "quit now, skip the clean shutdown" (and
 * Upstart never sends). Returns the group signalled, or null.
 */
export function signalProcessAndGroup(
  pid: number,
  signal: string,
  deps: SignalDeps,
): number | null {
  const pgid = deps.groupOf(pid) ?? pid;
  if (pgid <= 1 || pgid === deps.ownGroup) {
    deps.killOne(pid, signal);
    return null;
  }
  deps.killGroup(pgid, signal);
  const now = deps.groupOf(pid);
  if (now !== null && now !== pgid) deps.killOne(pid, signal);
  return pgid;
}

/** How many spawn-time start times wait to be taken (takeSpawnedStart) at most. */
const SPAWN_STARTS_KEPT = 4096;

/** Fallback without ptrace: how long a forked child may take to setsid() before we look. */
const FORK_SETTLE_MS = 25;

export interface SpawnSettings {
  /** The command that runs upkeep's own set-up helper (`upkeep exec-job`). */
  readonly helper: HelperCommand;
  /** RLIMIT_NOFILE jobs start with (the daemon's original limits); null: the daemon's current. */
  readonly baseNofile: { readonly soft: number; readonly hard: number } | null;
}

export class RealProcessPort implements ProcessPort {
  /** Pids we reap: our posix_spawn children and the daemons we followed. */
  readonly #reaped = new Map<number, Reaped>();
  readonly #ownGroup: number;
  readonly #trace: TraceSys | null;
  readonly #follower: ForkFollower | null;
  readonly #exits = new ExitWatcher();
  /**
   * Followed daemons that are not our children: their end is seen through a pidfd (their parent
   * hears of it, we get no SIGCHLD), then looked at by the next reap.
   */
  readonly #foreignEnds = new ExitWatcher();
  /** Followed daemons whose pidfd fired, looked at by the next reap. */
  readonly #foreignFired = new Set<number>();
  /** Main processes of `expect stop` jobs that have not stopped yet. */
  readonly #awaitingStop = new Set<number>();
  /** Process groups being emptied (strays), with who to tell once they are. */
  readonly #emptying = new Map<number, () => void>();
  /** Error pipes of set-up helpers, by pid (their failure line is logged when they are reaped). */
  readonly #setupPipes = new SetupPipes();
  #pipeTimer: number | undefined;

  constructor(
    private readonly users: () => UserDb,
    private readonly daemonUmask: number,
    private readonly log: (message: string) => void = () => {},
    trace: TraceSys | null = systemTrace(),
    private readonly settings: SpawnSettings = { helper: { argv: [], env: {} }, baseNofile: null },
  ) {
    this.#ownGroup = readProcStat(Deno.pid)?.pgrp ?? Deno.pid;
    this.#trace = trace;
    this.#follower = trace ? new ForkFollower(trace) : null;
  }

  spawn(req: SpawnRequest): number {
    checkBeforeSpawn(req);
    const forks = req.kind !== "main"
      ? 0
      : req.job.expect === "fork"
      ? 1
      : req.job.expect === "daemon"
      ? 2
      : 0;
    const planned = planProcess({
      job: req.job,
      kind: req.kind,
      env: req.env,
      users: userDbForJob(req.job, this.users),
      daemonUmask: this.daemonUmask,
      logFile: req.logFile,
      helper: this.settings.helper,
      ...(this.settings.baseNofile ? { baseNofile: this.settings.baseNofile } : {}),
    });
    if ("error" in planned) throw new Error(planned.error);
    if (planned.plan.helper && !this.settings.helper.argv.length) {
      throw new Error("cannot apply the job's set-up: no helper command configured");
    }
    // posix_spawn in a new session, the log opened by the spawn itself; under the follow wrapper
    // (absolute /bin/sh, then exec of the planned argv) when its forks are to be traced.
    const traced = forks > 0 && this.#follower !== null;
    const plan = traced
      ? { ...planned.plan, argv: [...FOLLOW_WRAPPER, ...planned.plan.argv] }
      : planned.plan;
    const { pid, start, errorFd } = spawnProcess(plan, {
      nofileSoft: this.settings.baseNofile?.soft ?? null,
      ...(req.logPipe ? { output: { pipe: req.logPipe } } : {}),
    });
    if (errorFd !== null) {
      // The main process waits in spawned until its helper exec'd (watched more often then).
      const onExec = req.kind === "main" ? req.onExec : undefined;
      this.#setupPipes.add(pid, errorFd, onExec && (() => onExec(pid)));
      this.#sweepPipesLater();
    }
    const entry: Reaped = {
      onExit: forks > 0 && !traced ? this.#followByTree(forks, req) : req.onExit,
      ...(req.kind === "main" ? { groups: [pid] } : {}),
      ...(errorFd !== null && req.onSetupFailed ? { onSetupFailed: req.onSetupFailed } : {}),
    };
    if (req.kind === "main" && req.job.expect === "stop" && req.onStopped) {
      entry.onStopped = req.onStopped;
      this.#awaitingStop.add(pid);
    }
    this.#reaped.set(pid, entry);
    if (start !== null) {
      this.#spawnStarts.set(pid, start);
      // Bounded: taken at once by the recorder (when there is one), else dropped oldest first.
      if (this.#spawnStarts.size > SPAWN_STARTS_KEPT) {
        this.#spawnStarts.delete(this.#spawnStarts.keys().next().value!);
      }
    }
    if (traced) this.#follow(pid, forks, req);
    return pid;
  }

  /** Start times of processes just spawned, as the spawn knew them (see Spawned.start). */
  readonly #spawnStarts = new Map<number, number>();

  /**
   * The start time (ticks) of a process this port just spawned, known from the spawn itself
   * (undefined when not known: then read /proc/PID/stat). Taken once.
   */
  takeSpawnedStart(pid: number): number | undefined {
    const start = this.#spawnStarts.get(pid);
    this.#spawnStarts.delete(pid);
    return start;
  }

  /** A helper spawned for a main process that has not exec'd yet: see awaitingExec. */
  awaitingExec(pid: number): boolean {
    return this.#setupPipes.awaitsExec(pid);
  }

  /**
   * Close the error pipes of helpers that exec'd, a little later (one timer for all): every 5 ms
   * while a main process waits for its helper's exec, else every 100 ms.
   */
  #sweepPipesLater(): void {
    if (this.#pipeTimer !== undefined) return;
    this.#pipeTimer = Number(setTimeout(() => {
      this.#pipeTimer = undefined;
      this.#setupPipes.sweep();
      if (this.#setupPipes.size) this.#sweepPipesLater();
    }, this.#setupPipes.execWaiting ? 5 : 100));
    Deno.unrefTimer(this.#pipeTimer);
  }

  #follow(pid: number, forks: number, req: SpawnRequest): void {
    this.#follower!.follow(pid, forks, {
      forked: (child, final) => {
        if (final) {
          this.#reaped.set(child, {
            onExit: req.onExit,
            groups: this.#groupsOf(child),
            foreign: true,
          });
          const ended = () => {
            this.#foreignFired.add(child);
            this.#signalled = true;
            this.reap();
          };
          // Already gone: the next reap hands its end on.
          if (!this.#foreignEnds.watch(child, null, ended)) queueMicrotask(ended);
        }
        req.onForked?.(child, final);
      },
      untraced: (error) => {
        this.log(
          `${req.job.name}: cannot trace process ${pid} (${error}): following its forks by the ` +
            `process tree`,
        );
        const entry = this.#reaped.get(pid);
        if (entry) this.#reaped.set(pid, { ...entry, onExit: this.#followByTree(forks, req) });
      },
      exited: (child, status) => {
        if (this.#reaped.has(child)) this.#ended(child, status);
        else req.onExit(child, status, null);
      },
    });
  }

  /**
   * Without ptrace: the exit callback that, when the spawned process exits with status 0, takes
   * the orphan it left (reparented to us, marked with the job's UPSTART_JOB) as the daemon before
   * reporting the exit. Timing-dependent and blind to daemons that rewrite their environment: the
   * fallback only.
   */
  #followByTree(forks: number, req: SpawnRequest): OnExit {
    return (pid, status, strays) => {
      if (status.signal !== null || status.code !== 0) return req.onExit(pid, status, strays);
      setTimeout(() => {
        const found = this.#findOrphan(req.job.name, req.instance);
        if (found !== null) {
          this.#reaped.set(found, { onExit: req.onExit, groups: this.#groupsOf(found) });
          this.#signalled = true;
          req.onForked?.(found, forks === 1 || readProcStat(found)?.session !== found);
          this.reap();
        }
        req.onExit(pid, status, strays);
      }, FORK_SETTLE_MS);
    };
  }

  /** The groups a followed daemon's leftovers may be in: its own (after setsid) and today's. */
  #groupsOf(pid: number): number[] {
    const pgrp = readProcStat(pid)?.pgrp;
    return pgrp !== undefined && pgrp !== pid ? [pid, pgrp] : [pid];
  }

  /**
   * The first of `groups` that still has a live process in it, or null. A zombie does not count
   * (it waits for its parent, which may not be us). The signal-0 probe is one system call; only a
   * group that has any member at all costs a /proc scan.
   */
  #liveGroup(groups: readonly number[]): number | null {
    for (const g of groups) {
      if (g <= 1 || g === this.#ownGroup) continue;
      if (this.#trace && !this.#trace.kill(-g, 0)) continue;
      if (processGroupMembers(g).length > 0) return g;
    }
    return null;
  }

  #findOrphan(job: string, instance: string): number | null {
    let found: number | null = null;
    for (const pid of childrenOf(Deno.pid)) {
      if (denoChildren.has(pid) || this.#reaped.has(pid)) continue;
      const st = readProcStat(pid);
      if (!st || st.state === "Z") continue;
      const env = readEnviron(pid);
      if (env?.UPSTART_JOB === job && (env.UPSTART_INSTANCE ?? "") === instance) {
        if (found === null || pid > found) found = pid;
      }
    }
    return found;
  }

  kill(pid: number, signal: string, killTimeoutMs: number): void {
    const group = signalProcessAndGroup(pid, signal, {
      ownGroup: this.#ownGroup,
      groupOf: (p) => readProcStat(p)?.pgrp ?? null,
      killGroup: killProcessGroup,
      killOne: killProcess,
    });
    if (group !== null && signal !== "KILL") this.#sweepGroupLater(group, killTimeoutMs);
  }

  killGroup(pgid: number, signal: string, onGone: () => void): void {
    if (pgid <= 1 || pgid === this.#ownGroup) {
      queueMicrotask(onGone);
      return;
    }
    killProcessGroup(pgid, signal);
    this.#emptying.set(pgid, onGone);
    queueMicrotask(() => this.#checkEmptying());
    this.#lookForEmptyGroupsLater();
  }

  #emptyingTimer: number | undefined;

  /**
   * A group's last members need not be our children (no SIGCHLD tells us they ended): while any
   * group is being emptied, look again every EMPTYING_POLL_MS.
   */
  #lookForEmptyGroupsLater(): void {
    if (this.#emptyingTimer !== undefined) return;
    this.#emptyingTimer = Number(setTimeout(() => {
      this.#emptyingTimer = undefined;
      this.#checkEmptying();
      if (this.#emptying.size > 0) this.#lookForEmptyGroupsLater();
    }, EMPTYING_POLL_MS));
  }

  /**
   * Tell who waits for a group once it has no live member. Zombies in it that are ours (strays
   * reparented to us as subreaper) are reaped here, so they do not keep the group alive.
   */
  #checkEmptying(): void {
    if (this.#emptying.size === 0) return;
    const live = new Set<number>();
    for (const st of allProcStats()) {
      if (!this.#emptying.has(st.pgrp)) continue;
      if (st.state === "Z") {
        // Dead already: ours to reap, or its parent's; either way not a live member.
        if (st.ppid === Deno.pid && !denoChildren.has(st.pid)) waitpidNoHang(st.pid);
      } else {
        live.add(st.pgrp);
      }
    }
    for (const [pgid, onGone] of [...this.#emptying]) {
      if (live.has(pgid)) continue;
      this.#emptying.delete(pgid);
      onGone();
    }
  }

  adopt(pid: number, start: number | null, main: boolean, onExit: OnExit): boolean {
    const st = readProcStat(pid);
    if (!st || (start !== null && st.startTime !== start)) return false;
    const groups = main ? (st.pgrp !== pid ? [pid, st.pgrp] : [pid]) : undefined;
    if (st.ppid === Deno.pid) {
      // Still our child (a re-exec): waitpid gives its status, even if it ended meanwhile.
      this.#reaped.set(pid, { onExit, ...(groups ? { groups } : {}) });
      this.#signalled = true;
      queueMicrotask(() => this.reap());
      return true;
    }
    if (st.state === "Z") return false;
    return this.#exits.watch(
      pid,
      st.startTime,
      () => onExit(pid, { code: null, signal: null }, groups ? this.#liveGroup(groups) : null),
    );
  }

  /**
   * See ProcessPort.lostGroup. The group named by the lost pid: Linux keeps a pid number taken
   * while it is the id of a live group, so members of group PID are that process's (a daemon's
   * workers, for a daemon that made its own session); once PID runs again, it is not that group.
   * `start`: the process's start time as recorded (null: unknown).
   */
  lostGroup(pid: number, start: number | null): number | null {
    const st = readProcStat(pid);
    // Its zombie (a parent that does not reap, such as a container's PID 1) still holds the pid.
    if (st && (st.state !== "Z" || (start !== null && st.startTime !== start))) return null;
    return this.#liveGroup([pid]);
  }

  /** See ProcessPort.findUnrecorded: one pass over the process table for every query. */
  findUnrecorded(
    queries: readonly (UnrecordedQuery | null)[],
    known: ReadonlySet<number>,
  ): ({ pid: number; start: number } | null)[] {
    const asked = queries.filter((q) => q !== null);
    if (asked.length === 0) return queries.map(() => null);
    const since = Math.min(...asked.map((q) => q.since));
    const key = (job: string, instance: string, socket: string) => `${job}\0${instance}\0${socket}`;
    const wanted = new Set(asked.map((q) => key(q.job, q.instance, q.socket)));
    const candidates = new Map<string, { pid: number; start: number; uid: number }[]>();
    for (const st of allProcStats()) {
      if (st.session !== st.pid || st.startTime < since || st.state === "Z") continue;
      if (known.has(st.pid) || st.pid === Deno.pid) continue;
      const env = readEnviron(st.pid);
      if (!env?.UPSTART_JOB || env.UPSTART_INSTANCE === undefined || !env.UPKEEP_SOCKET) continue;
      const k = key(env.UPSTART_JOB, env.UPSTART_INSTANCE, env.UPKEEP_SOCKET);
      if (!wanted.has(k)) continue;
      let uid: number;
      try {
        uid = Deno.statSync(`/proc/${st.pid}`).uid ?? -1;
      } catch {
        continue; // gone
      }
      const list = candidates.get(k) ?? [];
      list.push({ pid: st.pid, start: st.startTime, uid });
      candidates.set(k, list);
    }
    const me = Deno.uid();
    return queries.map((q) => {
      if (q === null) return null;
      const found = (candidates.get(key(q.job, q.instance, q.socket)) ?? [])
        .filter((c) => c.start >= q.since && (q.anyUser || c.uid === me));
      return found.length === 1 ? { pid: found[0]!.pid, start: found[0]!.start } : null;
    });
  }

  /** Why the state cannot be handed to a new program right now, or null. */
  get busy(): string | null {
    return this.#follower && this.#follower.size > 0
      ? "busy following the forks of a starting job (expect fork/daemon): try again in a moment"
      : null;
  }

  isAdopted(pid: number): boolean {
    return this.#exits.has(pid);
  }

  signal(pid: number, signal: string): void {
    const n = signalNumber(signal);
    if (n === null) throw new Error(`unknown signal '${signal}'`);
    if (this.#trace) this.#trace.kill(pid, n);
    else killProcess(pid, signal);
  }

  /** After the kill timeout, SIGKILL whatever is left of the group: no orphan survives a stop. */
  #sweepGroupLater(pgid: number, ms: number): void {
    setLongTimeout(() => {
      if (processGroupMembers(pgid).length) killProcessGroup(pgid, "KILL");
    }, ms + 50);
  }

  #signalled = true;

  /** A SIGCHLD arrived: the next reap() also looks at what an exit would not show (stops). */
  childSignalled(): void {
    this.#signalled = true;
  }

  /**
   * On SIGCHLD, and between them (each turn, each delivery): collect the children that ended.
   * One waitid(WNOWAIT) shows one ended child: ours is reaped and handed on, an orphan (a job's
   * grandchild, reparented to us as subreaper) is reaped, and the next is looked at; nothing is
   * asked of the children still running, so a reap costs the same with 10 jobs or 10,000. Only a
   * child of Deno's own at the head of the queue (a health check's shell, which Deno reaps
   * within milliseconds) hides the others: then every process of ours is asked in turn, and a
   * sweep for orphans runs a little later.
   */
  reap(): void {
    this.#checkEmptying();
    const follower = this.#follower;
    if (follower && follower.size > 0) {
      for (const { pid, status } of follower.poll()) this.#ended(pid, status);
    }
    if (this.#signalled) {
      this.#signalled = false;
      this.#lookAtStops();
      this.#lookAtForeignEnds();
    }
    for (let looked = 0; looked < REAP_BATCH; looked++) {
      const pid = endedChild();
      if (pid === 0) return;
      if (!this.#reapOne(pid)) {
        this.#askEach();
        this.#sweepLater();
        return;
      }
    }
  }

  /** One ended child: reaped (true), or left where it is, Deno's or the follower's (false). */
  #reapOne(pid: number): boolean {
    if (this.#follower?.has(pid) || denoChildren.has(pid)) return false;
    const entry = this.#reaped.get(pid);
    if (!entry) {
      waitpidNoHang(pid); // an orphan: nobody waits for it
      return true;
    }
    return this.#collect(pid, entry);
  }

  /** Reap `pid` (one of ours, ended or stopped) and hand on what happened; false: nothing did. */
  #collect(pid: number, entry: Reaped): boolean {
    if (entry.onStopped && this.#trace) {
      const r = this.#trace.wait(pid);
      if (r?.kind === "stopped") {
        const told = entry.onStopped;
        delete entry.onStopped;
        this.#awaitingStop.delete(pid);
        told();
        return true;
      }
      if (r?.kind === "exited") this.#ended(pid, r.status);
      return r !== null;
    }
    const status = waitpidNoHang(pid);
    if (status) this.#ended(pid, status);
    return status !== null;
  }

  /** Every process of ours, asked in turn: the fallback when the queue of exits is hidden. */
  #askEach(): void {
    for (const [pid, entry] of [...this.#reaped]) {
      if (this.#follower?.has(pid) || entry.foreign) continue;
      this.#collect(pid, entry);
    }
  }

  /** Processes started under `expect stop`: a stop is not an exit, so waitid(WEXITED) misses it. */
  #lookAtStops(): void {
    for (const pid of [...this.#awaitingStop]) {
      const entry = this.#reaped.get(pid);
      if (entry) this.#collect(pid, entry);
      else this.#awaitingStop.delete(pid);
    }
  }

  /** Followed daemons not our children whose pidfd said they ended. */
  #lookAtForeignEnds(): void {
    for (const pid of [...this.#foreignFired]) {
      const entry = this.#reaped.get(pid);
      if (!entry) {
        this.#foreignFired.delete(pid);
        continue;
      }
      // Reparented to us meanwhile (we are a subreaper): then ours to reap.
      const status = waitpidNoHang(pid);
      if (status) this.#ended(pid, status);
      else if (this.#foreignGone(pid)) {
        // A followed daemon whose parent reaped it (or will) before it could become ours.
        this.#ended(pid, { code: null, signal: null });
      }
    }
  }

  /** Look for orphans once the child of Deno's that hid them is gone (at most every 1.2 s). */
  #sweepLater(): void {
    if (this.#sweep !== undefined) return;
    this.#sweep = Number(setTimeout(() => {
      this.#sweep = undefined;
      if (this.#sweepOrphans()) this.reap();
    }, 1200));
    Deno.unrefTimer(this.#sweep);
  }

  /**
   * A process ended (and is reaped: no zombie waits for the loop). Who hears of it hears in a
   * task of its own, so a storm of exits is collected at once but handled a turn at a time.
   */
  #ended(pid: number, status: ExitStatus): void {
    const entry = this.#reaped.get(pid);
    if (!entry) return;
    this.#reaped.delete(pid);
    this.#awaitingStop.delete(pid);
    this.#foreignFired.delete(pid);
    if (entry.foreign) this.#foreignEnds.unwatch(pid);
    const failure = this.#setupPipes.take(pid);
    const onSetupFailed = entry.onSetupFailed;
    if (failure && onSetupFailed) {
      // Set-up or exec failed: a spawn failure, as Upstart's spawn reports it (no exit status).
      this.#ends.push(() => onSetupFailed(pid, failure.replace(/^upkeep: [^:]*: /, "")));
    } else {
      if (failure) this.log(failure);
      const strays = entry.groups ? this.#liveGroup(entry.groups) : null;
      this.#ends.push(() => entry.onExit(pid, status, strays));
    }
    if (this.#ends.length !== 1) return;
    // A lone exit is handed on as soon as the reap that found it is over (a respawn pays no timer
    // hop, ~2 ms in Deno); exits coming close on each other's heels (a crash storm) each wait for
    // a task of their own, after the event loop has served control and timers.
    if (performance.now() - this.#lastDelivery >= DELIVER_QUIET_MS) {
      queueMicrotask(() => this.#deliver());
    } else setTimeout(() => this.#deliver(), 0);
  }

  /** When exits were last handed on (ms, performance.now()). */
  #lastDelivery = -Infinity;

  /** A followed daemon has ended and is not ours to reap: gone, or a zombie of another parent. */
  #foreignGone(pid: number): boolean {
    const st = readProcStat(pid);
    return !st || (st.state === "Z" && st.ppid !== Deno.pid);
  }

  /** Exits collected, not handed on yet. */
  #ends: (() => void)[] = [];

  #deliver(): void {
    // Exits whose SIGCHLD is still on its way are handed on with these (no zombie waits for it).
    // Whatever happens there, the exits collected are handed on.
    try {
      this.reap();
    } catch (e) {
      this.log(`internal error while reaping: ${e instanceof Error ? e.message : e}`);
    }
    const ends = this.#ends;
    this.#ends = [];
    try {
      for (const tell of ends) {
        try {
          tell();
        } catch (e) {
          this.log(
            `internal error while handing on an exit: ${e instanceof Error ? e.message : e}`,
          );
        }
      }
    } finally {
      this.#lastDelivery = performance.now();
    }
  }

  #sweep: number | undefined;

  /**
   * Orphans (a job's grandchildren, reparented to us as subreaper) that ended while a child of
   * Deno's hid them from reap(): reaped here. Returns true if Deno's child is still there.
   */
  #sweepOrphans(): boolean {
    let hidden = false;
    for (const pid of childrenOf(Deno.pid)) {
      if (this.#reaped.has(pid) || this.#follower?.has(pid)) continue;
      if (readProcStat(pid)?.state !== "Z") continue;
      if (denoChildren.has(pid)) hidden = true;
      else waitpidNoHang(pid);
    }
    return hidden;
  }
}
