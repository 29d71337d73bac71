/** Instance records for tests: what a restore reads, with every optional part empty. */

import type { JobClass } from "../../../lib/job/model.ts";
import type { Env } from "../../../lib/supervisor/environment.ts";
import type { InstanceState } from "../../../lib/supervisor/instance.ts";
import { type InstanceRecord, SNAPSHOT_VERSION } from "../../../lib/supervisor/snapshot.ts";

export function instanceRecord(
  job: JobClass,
  st: InstanceState,
  procs: InstanceRecord["procs"],
  env: Env = {},
): InstanceRecord {
  return {
    v: SNAPSHOT_VERSION,
    job,
    name: "",
    st,
    procs,
    env,
    pendingEnv: null,
    stopEnv: null,
    stopMatch: null,
    backoff: 0,
    respawnAt: null,
    killAt: null,
    expectAt: null,
    health: null,
  };
}
