/**
 * The process layer shared by the daemon and `upkeep run`: plan a job's process (pure), spawn it
 * in its own session, signal process groups, libc extras through FFI, and /proc readers.
 */

export { loadUserDb, parseGroup, parsePasswd, userDbFrom } from "./users.ts";
export type { GroupEntry, UserDb, UserEntry } from "./users.ts";
export { needsShell, planProcess, shellQuote } from "./plan.ts";
export type { PlanInput, PlanStdio, ProcessPlan } from "./plan.ts";
export { killProcess, killProcessGroup, spawnPlan } from "./spawn.ts";
export type { ExitStatus, RunningProcess } from "./spawn.ts";
export {
  closeInheritedFds,
  decodeWaitStatus,
  lockFileWait,
  setChildSubreaper,
  tryLockFile,
  waitpidNoHang,
} from "./ffi.ts";
export type { FileLock } from "./ffi.ts";
export {
  allProcStats,
  childrenOf,
  descendantsOf,
  parseProcStat,
  processGroupMembers,
  processGroupRss,
  readEnviron,
  readProcStat,
} from "./proc.ts";
export type { ProcStat } from "./proc.ts";
export { canonicalSignal, denoSignal, signalName, signalNumber } from "./signals.ts";
