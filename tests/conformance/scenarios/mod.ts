/** Every conformance scenario, by topic. */

import type { Scenario } from "../scenario.ts";
import { CONFIG } from "./config.ts";
import { CORNERS } from "./corners.ts";
import { DELIBERATE } from "./deliberate.ts";
import { CROSS_CHECKS } from "./cross_checks.ts";
import { EVENTS, MORE_EVENTS } from "./events.ts";
import { HOOKS } from "./hooks.ts";
import { INITCTL } from "./initctl.ts";
import { LIFECYCLE } from "./lifecycle.ts";
import { MISC } from "./misc.ts";
import { OUTPUT } from "./output.ts";
import { PARSE } from "./parse.ts";
import { PROCESS } from "./process.ts";
import { PROCESS_SETUP } from "./process_setup.ts";
import { REAL_JOBS } from "./real_jobs.ts";
import { RESPAWN } from "./respawn.ts";
import { SHELL } from "./shell.ts";

// The deliberate differences go first: a few of them wait out Upstart's silence (10 to 20 s), which
// then overlaps with the rest instead of ending the run.
export const SCENARIOS: readonly Scenario[] = [
  ...DELIBERATE,
  ...LIFECYCLE,
  ...HOOKS,
  ...RESPAWN,
  ...PROCESS,
  ...PROCESS_SETUP,
  ...SHELL,
  ...EVENTS,
  ...MORE_EVENTS,
  ...INITCTL,
  ...CONFIG,
  ...PARSE,
  ...MISC,
  ...CORNERS,
  ...OUTPUT,
  ...REAL_JOBS,
  ...CROSS_CHECKS,
];
