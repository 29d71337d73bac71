/** Every conformance scenario, by topic. */

import type { Scenario } from "../scenario.ts";
import { LIFECYCLE } from "./lifecycle.ts";
import { INITCTL } from "./initctl.ts";

export const SCENARIOS: readonly Scenario[] = [...LIFECYCLE, ...INITCTL];
