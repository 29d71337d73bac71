/**
 * The Kubernetes mapping: every manifest validates against the API schemas (kubernetes-models,
 * pinned in tests/kubernetes/deno.json), and the fields carry the job's settings. Run with that
 * configuration (`deno task test` does): the package is the only one upkeep's tests use, and with
 * it in the checkout's own deno.json, every `deno run` of upkeep read its lock (about 0.9 ms).
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { Job } from "kubernetes-models/batch/v1/Job";
import { CronJob } from "kubernetes-models/batch/v1/CronJob";
import { kubernetesCron, kubernetesJob } from "../../lib/export/kubernetes.ts";
import type { MappedUnit } from "../../lib/export/model.ts";
import { corpusJobs, fixtureCron, fixtureJob, jobFrom, USERS } from "../unit/export/helpers.ts";

const OPTS = { image: () => "registry.example/app:1", users: USERS };

// deno-lint-ignore no-explicit-any
type Any = any;

function manifest(r: MappedUnit | { error: string }): Any {
  if ("error" in r) throw new Error(r.error);
  return r.files[0]!.data;
}

/** Validate against the schema of the manifest's kind; throws with the schema's complaint. */
function validate(doc: Any): void {
  const kinds: Record<string, new (d: Any) => { validate(): void }> = {
    Deployment,
    StatefulSet,
    Job,
    CronJob,
  };
  const Kind = kinds[doc.kind];
  ok(Kind, `unexpected kind ${doc.kind}`);
  new Kind(doc).validate();
}

Deno.test("every corpus job, the examples and the fixtures validate against the API schemas", () => {
  const jobs = [...corpusJobs(), fixtureJob("rich"), fixtureJob("backup")];
  ok(jobs.length >= 7);
  for (const j of jobs) {
    const doc = manifest(kubernetesJob(j, OPTS));
    try {
      validate(doc);
    } catch (e) {
      throw new Error(`${j.job.file}: ${e}`);
    }
  }
  for (const c of fixtureCron()) {
    const doc = manifest(kubernetesCron(c, OPTS));
    validate(doc);
  }
});

Deno.test("a service job becomes a Deployment with probe, limits, hooks and identity", () => {
  const doc = manifest(kubernetesJob(fixtureJob("rich"), OPTS));
  equal(doc.kind, "Deployment");
  equal(doc.spec.replicas, 1);
  const pod = doc.spec.template.spec;
  equal(pod.terminationGracePeriodSeconds, 20);
  const c = pod.containers[0];
  equal(c.name, "rich");
  equal(c.image, "registry.example/app:1");
  deepEqual(c.command, ["/bin/sh", "-e", "-c", 'exec /usr/bin/app --port $PORT --name "a b"']);
  equal(c.workingDir, "/srv/app");
  deepEqual(c.env, [
    { name: "UPSTART_JOB", value: "rich" },
    { name: "PORT", value: "8080" },
    { name: "GREETING", value: "hello world" },
  ]);
  deepEqual(c.livenessProbe, {
    httpGet: { path: "/healthz?full=1", port: 8080, scheme: "HTTP" },
    initialDelaySeconds: 30,
    periodSeconds: 15,
    timeoutSeconds: 4,
    failureThreshold: 5,
  });
  deepEqual(c.resources, { limits: { memory: "512Mi" } });
  deepEqual(c.securityContext, { runAsUser: 33, runAsGroup: 33 });
  deepEqual(c.lifecycle.postStart.exec.command, [
    "/bin/sh",
    "-e",
    "-c",
    'exec /usr/bin/logger "rich started"',
  ]);
  deepEqual(c.lifecycle.preStop.exec.command, ["/usr/bin/logger", "rich", "stopping"]);
  deepEqual(pod.initContainers.map((x: Any) => [x.name, x.command]), [
    ["pre-start", ["/usr/bin/mkdir", "-p", "/srv/app/tmp"]],
  ]);
});

Deno.test("Kubernetes notes: what a pod cannot carry, at the stanza's line", () => {
  const r = kubernetesJob(fixtureJob("rich"), OPTS);
  if ("error" in r) throw new Error(r.error);
  const w = r.notes.filter((n) => n.severity === "warning").map((n) => `${n.line} ${n.stanza}`);
  for (
    const want of [
      "11 umask",
      "12 nice",
      "13 oom",
      "14 limit nofile",
      "15 limit core",
      "16 kill signal",
      "18 normal exit",
      "20 respawn limit",
      "21 respawn delay",
      "24 health tcp",
      "25 health exec",
      "4 start on",
      "5 stop on",
      "34 post-stop",
    ]
  ) {
    ok(w.includes(want), `${want} in ${JSON.stringify(w)}`);
  }
});

Deno.test("probes: tcp and exec checks, grace 0 waits one interval, fractions round up", () => {
  const probe = (text: string) =>
    manifest(kubernetesJob(jobFrom(`respawn\nexec /bin/d\n${text}`), OPTS)).spec.template.spec
      .containers[0].livenessProbe;
  deepEqual(probe("health tcp db.internal:5432\nhealth interval 2.5"), {
    tcpSocket: { host: "db.internal", port: 5432 },
    initialDelaySeconds: 3,
    periodSeconds: 3,
    timeoutSeconds: 3,
    failureThreshold: 3,
  });
  deepEqual(probe("health exec pgrep -x d").exec, { command: ["/bin/sh", "-c", "pgrep -x d"] });
  deepEqual(probe("health http https://127.0.0.1/h").httpGet, {
    path: "/h",
    port: 443,
    scheme: "HTTPS",
  });
});

Deno.test("instance jobs become StatefulSets, tasks Jobs, manual jobs zero replicas", () => {
  const set = manifest(
    kubernetesJob(jobFrom("instance $N\nexec /bin/w $N", "/x/worker.conf"), OPTS),
  );
  equal(set.kind, "StatefulSet");
  equal(set.spec.replicas, 0);
  deepEqual(set.spec.template.spec.containers[0].env[2], {
    name: "N",
    valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } },
  });
  const task = manifest(kubernetesJob(jobFrom("start on startup\ntask\nexec /bin/t"), OPTS));
  equal(task.kind, "Job");
  equal(task.spec.backoffLimit, 0);
  equal(task.spec.template.spec.restartPolicy, "Never");
  const err = kubernetesJob(jobFrom("exec /bin/d"), { ...OPTS, image: () => null });
  ok("error" in err && err.error.includes("--image"));
  equal(
    manifest(kubernetesJob(jobFrom("exec /bin/d", "/x/Net_Apache.conf"), OPTS)).metadata.name,
    "net-apache",
  );
});

Deno.test("an upkeep run cron line becomes a CronJob", () => {
  const [backup, warm] = fixtureCron();
  const doc = manifest(kubernetesCron(backup!, OPTS));
  equal(doc.kind, "CronJob");
  equal(doc.spec.schedule, "15 2 * * *");
  equal(doc.spec.concurrencyPolicy, "Forbid");
  const job = doc.spec.jobTemplate.spec;
  equal(job.activeDeadlineSeconds, 3600);
  equal(job.backoffLimit, 2);
  const pod = job.template.spec;
  equal(pod.restartPolicy, "Never");
  deepEqual(pod.containers[0].command, ["/bin/sh", "-e", "-c", 'pg_dumpall > "$TARGET/all.sql"\n']);
  deepEqual(pod.containers[0].securityContext, { runAsUser: 34 });
  deepEqual(pod.initContainers[0].command, ["/usr/bin/mkdir", "-p", "/var/backups"]);
  const w = manifest(kubernetesCron(warm!, OPTS));
  equal(w.metadata.name, "cache-warm");
  equal(w.spec.schedule, "*/5 9-17 * * mon-fri");
  deepEqual(w.spec.jobTemplate.spec.template.spec.containers[0].command, [
    "/usr/local/bin/warm-cache",
    "--all",
  ]);
  equal(w.spec.jobTemplate.spec.activeDeadlineSeconds, 240);
});
