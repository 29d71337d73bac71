/**
 * What a Kubernetes pod cannot carry of a job file, as notes with the stanza's line: process
 * settings a container does not have (umask, nice, limits, oom score, chroot), Upstart's respawn
 * rules and `expect fork|daemon`.
 * Pure: no Deno APIs.
 */

import type { JobClass } from "../job/model.ts";
import type { Notes } from "./model.ts";
import { nthOfType } from "./model.ts";

/** Notes about process and respawn stanzas for a Deployment, StatefulSet or Job. */
export function kubernetesStanzaNotes(job: JobClass, notes: Notes): void {
  if (job.chroot !== null) notes.warn("chroot", "the container's root is the image: not mapped");
  if (job.umask !== 0o022) {
    notes.warn("umask", "Kubernetes has no umask setting: set it in the command");
  }
  if (job.nice !== null) {
    notes.warn("nice", "Kubernetes has no nice setting: use resource requests");
  }
  if (job.oomScore !== null) {
    notes.warn("oom", "Kubernetes sets the OOM score from the pod's QoS class");
  }
  for (const res of Object.keys(job.limits)) {
    notes.warn(
      `limit ${res}`,
      "Kubernetes has no per-container rlimits: the runtime's defaults apply",
    );
  }
  if (job.expect === "fork" || job.expect === "daemon") {
    notes.warn(
      "expect",
      `'expect ${job.expect}': a container ends when its first process exits; ` +
        "run the daemon in the foreground (its --foreground or --nodaemon option)",
    );
  } else if (job.expect === "stop") {
    notes.warn("expect", "'expect stop': nothing resumes a process that stops itself");
  }
  if (job.killSignal !== "TERM") {
    notes.warn(
      "kill signal",
      "Kubernetes stops containers with SIGTERM (or the image's STOPSIGNAL)",
    );
  }
  if (job.reloadSignal !== "HUP") {
    notes.info("reload", "Kubernetes has no reload: send the signal with kubectl exec");
  }
  if (job.console === "none") notes.info("console", "output still goes to the pod's log");
  if (job.console === "output" || job.console === "owner") {
    notes.info("console", "output goes to the pod's log (kubectl logs), not to a console");
  }
  if (job.postStop) notes.warn("post-stop", "Kubernetes has no hook after a container ends");
  if (job.task || !job.main) {
    if (job.preStop) notes.warn("pre-stop", "a Job's container gets no pre-stop hook here");
    if (job.postStart) notes.warn("post-start", "a Job's container gets no post-start hook here");
    if (job.normalExit.length) {
      notes.warn("normal exit", "a Job succeeds on exit status 0 only");
    }
    if (job.health?.checks.length) {
      job.health.checks.forEach((c, i) =>
        notes.warn(
          `health ${c.type}`,
          "a Job gets no liveness probe here",
          nthOfType(job.health!.checks, i),
        )
      );
    }
    return;
  }
  if (!job.respawn) {
    notes.warn(
      "respawn",
      "no 'respawn', but a Deployment's container is restarted whenever it exits",
    );
  }
  if (job.normalExit.length) {
    notes.warn("normal exit", "a Deployment restarts its container on every exit");
  }
  if (notes.position("respawn limit")) {
    notes.warn(
      "respawn limit",
      "Kubernetes never gives up: it backs off crash loops (10 s doubling to 5 min)",
    );
  }
  if (job.respawnDelay) {
    notes.warn("respawn delay", "Kubernetes' crash-loop back-off is fixed: 10 s doubling to 5 min");
  }
  if (job.respawnRetry !== null) {
    notes.info("respawn retry", "Kubernetes never gives up: no retry needed");
  }
}
