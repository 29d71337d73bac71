/**
 * Health checks and crash-loop back-off (upkeep extensions, issue 7): run one check (check.ts),
 * schedule checks per instance (monitor.ts), and the pure respawn back-off rules (backoff.ts).
 */

export { checkMemory, type CheckResult, type CheckTarget, formatBytes, runCheck } from "./check.ts";
export { GroupRssSampler } from "./memory.ts";
export {
  type Checkers,
  HealthMonitor,
  type HealthReport,
  REAL_TIMERS,
  type Timers,
} from "./monitor.ts";
export {
  describeExit,
  resetAfterSeconds,
  respawnDelaySeconds,
  shouldResetBackoff,
} from "./backoff.ts";
