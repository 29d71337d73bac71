/**
 * The 39 real job files of ../shared/upstart-jobs, loaded side by side (no event at start, so none
 * of them runs): which load, how show-config and check-config print them.
 */

import { REPO_ROOT } from "../../e2e/helpers.ts";
import { initctl, parseErrors, type Scenario } from "../scenario.ts";

function realJobs(): Record<string, string> | null {
  const dir = `${REPO_ROOT}/../shared/upstart-jobs`;
  try {
    const jobs: Record<string, string> = {};
    for (const e of Deno.readDirSync(dir)) {
      if (e.isFile && e.name.endsWith(".conf")) {
        jobs[e.name.slice(0, -5)] = Deno.readTextFileSync(`${dir}/${e.name}`);
      }
    }
    return Object.keys(jobs).length ? jobs : null;
  } catch {
    return null;
  }
}

const jobs = realJobs();

const UPKEEP_OWN = [
  "virtual-filesystems",
  "local-filesystems",
  "remote-filesystems",
  "filesystem",
  "net-device-up",
  "static-network-up",
  "runlevel",
].join(",");

export const REAL_JOBS: Scenario[] = jobs === null ? [] : [
  {
    name: "real job files: list, show-config and check-config",
    noStartupEvent: true,
    jobs,
    steps: [
      parseErrors(),
      initctl("list"),
      initctl("show-config"),
      initctl("show-config", "-e"),
      // The events upkeep emits itself are known to its check-config (a deliberate difference):
      // ignored on both sides here.
      initctl("check-config", "-i", UPKEEP_OWN),
      initctl("check-config", "-w", "-i", UPKEEP_OWN),
      initctl("check-config", `--ignore-events=${UPKEEP_OWN},mounted,net-device-added`),
    ],
  },
];
