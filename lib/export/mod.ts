/**
 * `upkeep export`: job files and `upkeep run` crontab lines to systemd units, Kubernetes
 * manifests and Nomad jobs, with every stanza a target cannot express reported at its line
 * (docs/export.md). Everything here is pure; lib/cli/export.ts reads and writes the files.
 */

export { exportAll, type ExportInput, type ExportOptions, type ExportResult } from "./export.ts";
export {
  type CronRun,
  type ExportFile,
  type ExportNote,
  type ExportTarget,
  type JobSource,
  TARGETS,
} from "./model.ts";
export { type CronLine, parseCrontab, type SkippedLine } from "./crontab.ts";
export { cronMatches, onCalendar, parseCronSchedule } from "./cron.ts";
