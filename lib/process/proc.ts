/**
 * Readers of /proc: process stat, children and descendants, process-group members and memory,
 * environment. Synchronous (a full scan is a few ms) and never throwing for vanished pids.
 */

import { readSmallFile } from "./ffi.ts";

export interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  session: number;
  state: string;
  comm: string;
  rssPages: number;
  /** When the process started, in clock ticks since boot (with the pid, its identity). */
  startTime: number;
}

function readText(path: string): string | null {
  const text = readSmallFile(path);
  if (text !== undefined) return text;
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
}

/** Parse the text of /proc/PID/stat (comm may hold spaces and parentheses). Pure. */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf("("), close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const f = text.slice(close + 2).trim().split(" ");
  const num = (i: number) => Number(f[i]);
  if (f.length < 22) return null;
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: f[0] ?? "?",
    ppid: num(1),
    pgrp: num(2),
    session: num(3),
    rssPages: num(21),
    startTime: num(19),
  };
}

/** /proc/PID/stat, or null when the process is gone. */
export function readProcStat(pid: number): ProcStat | null {
  const text = readText(`/proc/${pid}/stat`);
  return text === null ? null : parseProcStat(text);
}

/** The start time of a live (non-zombie) process, or null when it is gone or a zombie. */
export function processStart(pid: number): number | null {
  const st = readProcStat(pid);
  return st === null || st.state === "Z" || st.state === "X" ? null : st.startTime;
}

/** The id of this boot (a reboot changes it), or "" when unknown. */
export function bootId(): string {
  return (readText("/proc/sys/kernel/random/boot_id") ?? "").trim();
}

/** Every pid in /proc. */
export function allPids(): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (/^\d+$/.test(e.name)) out.push(Number(e.name));
  }
  return out;
}

/** Stats of every live process (one /proc scan). */
export function allProcStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const pid of allPids()) {
    const s = readProcStat(pid);
    if (s) out.push(s);
  }
  return out;
}

let childrenFile: boolean | null = null;

/** Whether this kernel has /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN). */
function childrenFileSupported(): boolean {
  if (childrenFile === null) {
    try {
      Deno.statSync("/proc/thread-self/children");
      childrenFile = true;
    } catch {
      childrenFile = false;
    }
  }
  return childrenFile;
}

/** Direct children of a process (/proc/PID/task/*\/children, or a /proc scan without it). */
export function childrenOf(pid: number): number[] {
  if (!childrenFileSupported()) {
    return allProcStats().filter((s) => s.ppid === pid).map((s) => s.pid);
  }
  const out: number[] = [];
  try {
    for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
      for (const w of (readText(`/proc/${pid}/task/${t.name}/children`) ?? "").split(" ")) {
        if (w.trim()) out.push(Number(w));
      }
    }
  } catch {
    // the process is gone
  }
  return out;
}

/** Every descendant of a process (children, grandchildren, ...), breadth first. */
export function descendantsOf(pid: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const s of allProcStats()) {
    const list = byParent.get(s.ppid);
    if (list) list.push(s.pid);
    else byParent.set(s.ppid, [s.pid]);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const c of byParent.get(queue.shift()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** Live (non-zombie) members of a process group. */
export function processGroupMembers(pgid: number): number[] {
  return allProcStats().filter((s) => s.pgrp === pgid && s.state !== "Z").map((s) => s.pid);
}

/** Resident memory of a process group, bytes: the sum of VmRSS of its members. */
export function processGroupRss(pgid: number): number {
  let total = 0;
  for (const pid of processGroupMembers(pgid)) {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readText(`/proc/${pid}/status`) ?? "");
    if (m) total += Number(m[1]) * 1024;
  }
  return total;
}

/** The environment a process was started with, or null when unreadable or gone. */
export function readEnviron(pid: number): Record<string, string> | null {
  const text = readText(`/proc/${pid}/environ`);
  if (text === null) return null;
  const env: Record<string, string> = {};
  for (const entry of text.split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}
