/**
 * Export to Kubernetes: a Deployment per service job (a StatefulSet for an `instance` job, whose
 * instances need stable names), a Job per task, and a CronJob per `upkeep run` cron line, with the
 * health checks as a liveness probe. The image is the caller's (`--image`): a job file names a
 * command, not an image. Manifests are built as plain data and written as YAML. Pure: no Deno APIs.
 */

import type { Health, JobClass } from "../job/model.ts";
import type { UserDb } from "../process/users.ts";
import { bytesQuantity, dnsLabel, instanceVariable, processArgv, wholeSeconds } from "./command.ts";
import type { CronRun, JobSource, MappedUnit, Notes } from "./model.ts";
import { notesFor } from "./model.ts";
import { commonNotes, conditionNotes, cronOptionNotes, noteComments } from "./shared_notes.ts";
import { toYaml, type YamlValue } from "./yaml.ts";
import { kubernetesStanzaNotes } from "./kubernetes_notes.ts";

export interface KubernetesOptions {
  /** The image for a job or cron run, or null when none was given. */
  readonly image: (name: string) => string | null;
  /** Resolves `setuid`/`setgid` names to numbers; null to accept numbers only. */
  readonly users: UserDb | null;
}

type Obj = { [key: string]: YamlValue | undefined };

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]", "0.0.0.0"]);
const PROBE_LOCAL_NOTE = "the kubelet probes the pod's IP: the server must listen on it, " +
  "not only on 127.0.0.1";

function labels(name: string): Obj {
  return { "app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "upkeep-export" };
}

function metadata(name: string, job: JobClass | null): Obj {
  return {
    name,
    labels: labels(name),
    annotations: job?.description ? { "kubernetes.io/description": job.description } : undefined,
  };
}

/** The liveness probe for a job's health checks (the first check; the others are reported). */
function livenessProbe(h: Health, notes: Notes, respawn: boolean): Obj | undefined {
  const first = h.checks[0];
  const seen: Record<string, number> = {};
  for (const c of h.checks) {
    const nth = seen[c.type] = (seen[c.type] ?? -1) + 1;
    if (c !== first) {
      notes.warn(
        `health ${c.type}`,
        "a container has one liveness probe: only the first health check is mapped",
        nth,
      );
    }
  }
  if (!first) return undefined;
  let handler: Obj;
  if (first.type === "http") {
    const u = new URL(first.url);
    const host = u.hostname;
    handler = {
      httpGet: {
        host: LOCAL_HOSTS.has(host) ? undefined : host,
        path: `${u.pathname}${u.search}`,
        port: u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80,
        scheme: u.protocol === "https:" ? "HTTPS" : "HTTP",
      },
    };
    if (LOCAL_HOSTS.has(host)) notes.info("health http", PROBE_LOCAL_NOTE, 0);
  } else if (first.type === "tcp") {
    const local = LOCAL_HOSTS.has(first.host);
    handler = { tcpSocket: { host: local ? undefined : first.host, port: first.port } };
    if (local) notes.info("health tcp", PROBE_LOCAL_NOTE, 0);
  } else {
    handler = { exec: { command: ["/bin/sh", "-c", first.command] } };
  }
  const fractional = [h.interval, h.timeout, h.grace].some((s) => s !== Math.ceil(s));
  if (fractional) notes.info("health interval", "probe times are whole seconds: rounded up");
  if (!respawn) {
    notes.warn(
      `health ${first.type}`,
      "Kubernetes restarts a container that fails its liveness probe; upkeep only reports it " +
        "for a job without 'respawn'",
      0,
    );
  }
  return {
    ...handler,
    initialDelaySeconds: wholeSeconds(h.grace > 0 ? h.grace : h.interval),
    periodSeconds: wholeSeconds(h.interval, 1),
    timeoutSeconds: wholeSeconds(h.timeout, 1),
    failureThreshold: h.retries,
  };
}

/** `runAsUser` / `runAsGroup` from setuid / setgid (numbers, or names known on this host). */
function securityContext(job: JobClass, notes: Notes, users: UserDb | null): Obj | undefined {
  const ctx: Obj = {};
  const resolve = (stanza: "setuid" | "setgid", name: string | null) => {
    if (name === null) return undefined;
    if (/^\d+$/.test(name)) return Number(name);
    const id = stanza === "setuid" ? users?.user(name)?.uid : users?.group(name)?.gid;
    if (id === undefined) {
      notes.warn(stanza, `'${name}' is not known here: Kubernetes needs a number; set it by hand`);
      return undefined;
    }
    notes.info(stanza, `'${name}' is ${id} on this host: check the image agrees`);
    return id;
  };
  ctx.runAsUser = resolve("setuid", job.setuid);
  ctx.runAsGroup = resolve("setgid", job.setgid);
  if (job.apparmorSwitch !== null) {
    ctx.appArmorProfile = { type: "Localhost", localhostProfile: job.apparmorSwitch };
  }
  return Object.values(ctx).some((v) => v !== undefined) ? ctx : undefined;
}

interface PodInput {
  readonly job: JobClass | null;
  readonly name: string;
  readonly image: string;
  readonly argv: readonly string[];
  readonly env: readonly Obj[];
  readonly notes: Notes;
  readonly opts: KubernetesOptions;
  readonly batch: boolean;
  /** upkeep run's kill options, when they override the job's. */
  readonly killTimeout?: number;
}

/** A pod template's spec: the main container, pre-start as an init container, hooks. */
function podSpec(p: PodInput): Obj {
  const { job, notes } = p;
  const sec = job ? securityContext(job, notes, p.opts.users) : undefined;
  const base = (name: string, argv: readonly string[]): Obj => ({
    name,
    image: p.image,
    command: [...argv],
    workingDir: job?.chdir ?? undefined,
    env: p.env.length ? [...p.env] : undefined,
    securityContext: sec,
  });
  const main = base(p.name, p.argv);
  const usesPreStartAsMain = job !== null && !job.main;
  if (job?.health) {
    if (job.health.memory !== null) {
      main.resources = { limits: { memory: bytesQuantity(job.health.memory) } };
      notes.info(
        "health memory",
        "a memory limit: the container is OOM-killed past it, then restarted",
      );
    }
    if (!p.batch) main.livenessProbe = livenessProbe(job.health, notes, job.respawn);
  }
  if (job && !p.batch) {
    const lifecycle: Obj = {};
    if (job.postStart) lifecycle.postStart = { exec: { command: processArgv(job.postStart) } };
    if (job.preStop) lifecycle.preStop = { exec: { command: processArgv(job.preStop) } };
    if (Object.keys(lifecycle).length) main.lifecycle = lifecycle;
  }
  const killTimeout = p.killTimeout ?? job?.killTimeout ?? 5;
  return {
    restartPolicy: p.batch ? "Never" : undefined,
    terminationGracePeriodSeconds: wholeSeconds(killTimeout),
    initContainers: job?.preStart && !usesPreStartAsMain
      ? [base("pre-start", processArgv(job.preStart))]
      : undefined,
    containers: [main],
  };
}

function envList(job: JobClass | null, name: string, extra: Readonly<Record<string, string>>) {
  const env: Obj[] = [{ name: "UPSTART_JOB", value: job?.name ?? name }];
  for (const [k, v] of Object.entries({ ...(job?.env ?? {}), ...extra })) {
    env.push({ name: k, value: v });
  }
  return env;
}

function file(name: string, source: string, notes: Notes, doc: Obj, what: string): MappedUnit {
  const comments = [`Exported by upkeep export from ${what}.`, ...noteComments(notes.list, source)]
    .map((c) => c ? `# ${c}` : "#").join("\n");
  return {
    files: [{
      path: `${name}.yaml`,
      job: notes.job,
      source: what,
      content: `${comments}\n${toYaml(doc)}`,
      data: JSON.parse(JSON.stringify(doc)),
    }],
    notes: notes.list,
  };
}

const noImage = (name: string) => ({
  error: `no image for '${name}': give --image IMAGE or --image ${name}=IMAGE`,
});

/** The Deployment, StatefulSet or Job of one job file. */
export function kubernetesJob(
  src: JobSource,
  opts: KubernetesOptions,
): MappedUnit | { error: string } {
  const { job } = src;
  const notes = notesFor(src, job.name);
  const name = dnsLabel(job.name);
  const image = opts.image(job.name);
  if (image === null) return noImage(job.name);
  commonNotes(job, notes, "kubernetes");
  kubernetesStanzaNotes(job, notes);
  const argv = job.main ? processArgv(job.main) : job.preStart ? processArgv(job.preStart) : null;
  if (!argv) return { error: `'${job.name}' has neither a main process nor a pre-start` };
  const batch = job.task || !job.main;
  conditionNotes(job, notes, batch, "kubernetes");
  const env = envList(job, name, {});
  const instanceVar = instanceVariable(job.instance);
  if (job.instance) {
    const pick = { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } };
    env.splice(1, 0, { name: "UPSTART_INSTANCE", valueFrom: pick });
    if (instanceVar && !(instanceVar in job.env)) {
      env.splice(2, 0, { name: instanceVar, valueFrom: pick });
    }
    notes.info(
      "instance",
      `instances are the StatefulSet's pods 0, 1, \u2026: $${
        instanceVar ?? "UPSTART_INSTANCE"
      } is the pod's index; scale it to the instances you run`,
    );
    if (!instanceVar) {
      notes.warn("instance", `'${job.instance}': only the pod index names an instance`);
    }
  }
  if (!job.main) notes.warn("pre-start", "no main process: the pre-start runs once, as a Job");
  const spec = podSpec({ job, name, image, argv, env, notes, opts, batch });
  const template = { metadata: { labels: labels(name) }, spec };
  let doc: Obj;
  if (batch) {
    const backoffLimit = job.respawn && job.respawnLimit !== "unlimited"
      ? job.respawnLimit.count
      : job.respawn
      ? 6
      : 0;
    doc = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: metadata(name, job),
      spec: { backoffLimit, template },
    };
  } else if (job.instance) {
    doc = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: metadata(name, job),
      spec: {
        replicas: job.startOn ? 1 : 0,
        serviceName: name,
        podManagementPolicy: "Parallel",
        selector: { matchLabels: labels(name) },
        template,
      },
    };
  } else {
    doc = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: metadata(name, job),
      spec: {
        replicas: job.startOn ? 1 : 0,
        strategy: { type: "Recreate" },
        selector: { matchLabels: labels(name) },
        template,
      },
    };
  }
  return file(name, job.file, notes, doc, job.file);
}

/** The CronJob of one `upkeep run` cron line. */
export function kubernetesCron(
  run: CronRun,
  opts: KubernetesOptions,
): MappedUnit | { error: string } {
  const notes = notesFor(run.source, run.name, run);
  const where = `${run.file}:${run.line}`;
  const o = run.options;
  const job = run.source?.job ?? null;
  const name = dnsLabel(run.name, 52);
  const image = opts.image(run.name);
  if (image === null) return noImage(run.name);
  if (job) commonNotes(job, notes, "kubernetes", true);
  if (run.schedule.kind === "reboot") return { error: "Kubernetes has no @reboot schedule" };
  const argv = job
    ? job.main ? processArgv(job.main) : job.preStart ? processArgv(job.preStart) : null
    : o.command;
  if (!argv) return { error: `'${run.name}' has neither a main process nor a pre-start` };
  if (job?.postStop) notes.warn("post-stop", "Kubernetes has no hook after a container ends");
  const cronEnv = Object.fromEntries(
    Object.entries(run.env).filter(([k]) => !["MAILTO", "CRON_TZ", "SHELL"].includes(k)),
  );
  const spec = podSpec({
    job,
    name,
    image,
    argv,
    env: envList(job, run.name, cronEnv),
    notes,
    opts,
    batch: true,
    killTimeout: o.killTimeout ?? undefined,
  });
  if ((o.killSignal ?? job?.killSignal ?? "TERM") !== "TERM") {
    notes.warn(
      "--kill-signal",
      "Kubernetes stops containers with SIGTERM (or the image's STOPSIGNAL)",
    );
  }
  if (o.retries > 0) {
    notes.info("--retry-delay", "Kubernetes waits 10 s, doubling up to 6 min, between tries");
  }
  cronOptionNotes(run, notes, "kubernetes");
  const doc: Obj = {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: metadata(name, job),
    spec: {
      schedule: run.schedule.text,
      timeZone: run.env.CRON_TZ,
      concurrencyPolicy: o.noOverlap ? "Forbid" : "Allow",
      jobTemplate: {
        spec: {
          backoffLimit: o.retries,
          activeDeadlineSeconds: o.timeout === null ? undefined : wholeSeconds(o.timeout, 1),
          template: { metadata: { labels: labels(name) }, spec },
        },
      },
    },
  };
  return file(name, job?.file ?? run.file, notes, doc, where);
}
