/**
 * What a Nomad `raw_exec` / `exec` task cannot carry of a job file, as notes with the stanza's
 * line: process settings the drivers do not have, `pre-stop`, `normal exit`, the respawn back-off
 * and `expect fork|daemon`. Pure: no Deno APIs.
 */

import type { JobClass } from "../job/model.ts";
import type { Notes } from "./model.ts";
import { nthOfType } from "./model.ts";

/** Notes about process and respawn stanzas for a Nomad task. */
export function nomadStanzaNotes(
  job: JobClass,
  notes: Notes,
  driver: "raw_exec" | "exec",
  batch: boolean,
): void {
  if (job.chroot !== null) {
    notes.warn(
      "chroot",
      driver === "raw_exec"
        ? "raw_exec runs on the host's root: not mapped (the exec driver chroots into its task dir)"
        : "the exec driver chroots into its own task dir, not into this one",
    );
  }
  if (job.chdir !== null) {
    notes.info("chdir", "done by a /bin/sh wrapper: Nomad's drivers take no working directory");
  }
  if (job.setgid !== null) notes.warn("setgid", "Nomad runs the task with the user's own group");
  if (job.umask !== 0o022) notes.warn("umask", "Nomad has no umask setting: set it in the command");
  if (job.nice !== null) notes.warn("nice", "Nomad has no nice setting: use cpu resources");
  if (job.oomScore !== null) {
    notes.warn("oom", "not mapped (newer raw_exec versions take oom_score_adj)");
  }
  for (const res of Object.keys(job.limits)) {
    notes.warn(`limit ${res}`, "Nomad has no per-task rlimits: the client's own apply");
  }
  if (job.apparmorSwitch !== null) {
    notes.warn("apparmor switch", "Nomad's drivers take no AppArmor profile");
  }
  if (job.expect === "fork" || job.expect === "daemon") {
    notes.warn(
      "expect",
      `'expect ${job.expect}': Nomad follows the process it started; ` +
        "run the daemon in the foreground (its --foreground or --nodaemon option)",
    );
  } else if (job.expect === "stop") {
    notes.warn("expect", "'expect stop': nothing resumes a process that stops itself");
  }
  if (job.reloadSignal !== "HUP") notes.info("reload", "send the signal with nomad alloc signal");
  if (job.console !== "log") notes.info("console", "output goes to the allocation's logs");
  if (job.preStop) notes.warn("pre-stop", "Nomad has no hook that runs before a task is stopped");
  if (job.normalExit.length) {
    notes.warn(
      "normal exit",
      batch
        ? "a batch task succeeds on exit status 0 only"
        : "Nomad restarts a service task on every exit",
    );
  }
  if (batch) {
    if (job.postStart) notes.warn("post-start", "not mapped for a batch job");
    job.health?.checks.forEach((c, i) =>
      notes.warn(
        `health ${c.type}`,
        "a batch job gets no service checks here",
        nthOfType(job.health!.checks, i),
      )
    );
    return;
  }
  if (job.respawnDelay) {
    notes.warn(
      "respawn delay",
      `Nomad waits a constant delay (${job.respawnDelay.min}s) between restarts: no back-off to ${job.respawnDelay.max}s`,
    );
  }
}
