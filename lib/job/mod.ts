/**
 * The job-file language: parse Upstart 1.13 job files (pure), load them from conf dirs, print
 * them as JSON or as `initctl show-config` does, and check their event references.
 */

export * from "./model.ts";
export { parseJob, type ParseOptions, type ParseResult, type StanzaPosition } from "./parse.ts";
export {
  collectJobFiles,
  findConfFiles,
  loadConfDirs,
  loadJobFile,
  type LoadResult,
  overridePath,
} from "./load.ts";
export { jobToJson } from "./json.ts";
export { formatShowConfig } from "./show_config_format.ts";
export { checkConditions, formatConditionWarning, UPKEEP_EVENTS } from "./check_events.ts";
export { fnmatch } from "../events/fnmatch.ts";
