/**
 * `upkeep export` as a subprocess on the real corpus, the examples and the fixture crontab:
 * every systemd unit passes `systemd-analyze verify`, cron schedules fire when cron would
 * (`systemd-analyze calendar`), Kubernetes manifests parse with `kubectl create --dry-run=client`
 * back to the very objects exported, output is deterministic, and exit statuses hold.
 *
 * systemd-analyze verify checks that every Exec*= program exists. It runs with `--root` on a
 * scratch root holding the host's unit directory, the exported units, and an empty executable at
 * each path the units name (the programs are the target host's, not this one's); every other
 * check is on. kubectl needs the API's discovery documents even for a client-side dry run: the
 * test serves them (apps/v1, batch/v1) from a local HTTP server; validation against the schemas
 * is done with kubernetes-models in tests/kubernetes/kubernetes_test.ts (--validate=false here).
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { REPO_ROOT, runUpkeep, tempDir } from "./helpers.ts";
import { cronMatches, onCalendar, parseCronSchedule } from "../../lib/export/cron.ts";
import { exportAll } from "../../lib/export/export.ts";
import { type Inputs, readCrontab, readJobs } from "../../lib/cli/export_inputs.ts";
import { loadUserDb } from "../../lib/process/users.ts";

const CORPUS = new URL("../../../shared/upstart-jobs/", import.meta.url).pathname;
const EXAMPLES = `${REPO_ROOT}/examples/init`;
const FIXTURES = `${REPO_ROOT}/tests/unit/export/fixtures`;
const haveCorpus = (() => {
  try {
    return Deno.statSync(CORPUS).isDirectory;
  } catch {
    return false;
  }
})();

function which(tool: string): string | null {
  for (const dir of ["/usr/bin", "/bin", "/usr/local/bin"]) {
    try {
      if (Deno.statSync(`${dir}/${tool}`).isFile) return `${dir}/${tool}`;
    } catch { /* next */ }
  }
  return null;
}

async function run(cmd: string, args: string[], env?: Record<string, string>) {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A crontab with the fixture's lines (the backup line runs fixtures/backup.conf). */
async function crontab(dir: string): Promise<string> {
  const text = (await Deno.readTextFile(`${FIXTURES}/crontab`))
    .replace("BACKUP_CONF", `${FIXTURES}/backup.conf`);
  await Deno.writeTextFile(`${dir}/crontab`, text);
  return `${dir}/crontab`;
}

const inputs = () => haveCorpus ? [EXAMPLES, FIXTURES, CORPUS] : [EXAMPLES, FIXTURES];

/** Verify units in a scratch root; returns systemd-analyze's output lines. */
async function verifyUnits(unitDir: string, root: string): Promise<string[]> {
  await Deno.mkdir(`${root}/etc/systemd/system`, { recursive: true });
  await Deno.mkdir(`${root}/usr/lib/systemd`, { recursive: true });
  const cp = await run("cp", ["-a", "/lib/systemd/system", `${root}/usr/lib/systemd/`]);
  equal(cp.code, 0, cp.stderr);
  const units: string[] = [];
  for await (const e of Deno.readDir(unitDir)) {
    const text = await Deno.readTextFile(`${unitDir}/${e.name}`);
    await Deno.writeTextFile(`${root}/etc/systemd/system/${e.name}`, text);
    units.push(e.name.replace("@.service", "@x.service"));
    for (const m of text.matchAll(/^Exec[A-Za-z]*=[-@+!:]*(\S+)/gm)) {
      const prog = m[1]!;
      const path = `${root}${prog.startsWith("/") ? prog : `/usr/bin/${prog}`}`;
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(path, "#!/bin/sh\n", { mode: 0o755 });
    }
  }
  units.sort();
  const r = await run("systemd-analyze", ["verify", "--man=no", `--root=${root}`, ...units]);
  equal(r.code, 0, r.stderr);
  return (r.stdout + r.stderr).split("\n").filter(Boolean);
}

const SYSTEMD_ANALYZE = which("systemd-analyze");

Deno.test({
  name: "systemd: every exported unit passes systemd-analyze verify",
  ignore: !SYSTEMD_ANALYZE && !Deno.env.get("CI"),
  async fn() {
    const t = await tempDir();
    try {
      const tab = await crontab(t.path);
      const r = await runUpkeep([
        "export",
        "--to",
        "systemd",
        "--out",
        `${t.path}/units`,
        "--crontab",
        tab,
        ...inputs(),
      ]);
      equal(r.code, 0, r.stderr);
      const written = r.stdout.trim().split("\n");
      ok(written.length >= (haveCorpus ? 49 : 10), r.stdout);
      ok(written.includes(`${t.path}/units/backup.timer`));
      ok(written.includes(`${t.path}/units/worker@.service`));
      const lines = await verifyUnits(`${t.path}/units`, `${t.path}/root`);
      // systemd 252 (Debian 12) predates RestartSteps= and RestartMaxDelaySec= (254).
      const other = lines.filter((l) => !/Unknown key '(RestartSteps|RestartMaxDelaySec)'/.test(l));
      deepEqual(other, []);

      const old = await runUpkeep([
        "export",
        "--to",
        "systemd",
        "--systemd-version",
        "252",
        "--out",
        `${t.path}/u252`,
        "--crontab",
        tab,
        ...inputs(),
      ]);
      equal(old.code, 0, old.stderr);
      deepEqual(await verifyUnits(`${t.path}/u252`, `${t.path}/root252`), []);
    } finally {
      await t.cleanup();
    }
  },
});

Deno.test({
  name: "systemd: OnCalendar= fires exactly when cron would (systemd-analyze calendar)",
  ignore: !SYSTEMD_ANALYZE && !Deno.env.get("CI"),
  async fn() {
    const base = "2026-03-30 23:58:00 UTC"; // a Monday
    const schedules = [
      "*/7 * * * *",
      "15 2 * * *",
      "0 9-17/4 * * 1-5",
      "0 0 1,15 * 1",
      "0 0 */2 * 5",
      "30 6 * jan,jul sun",
      "5 4 29 2 *",
      "0 12 * * 5-7",
      "@hourly",
    ];
    for (const text of schedules) {
      const s = parseCronSchedule(text.split(" "));
      if ("error" in s || s.kind !== "fields") throw new Error(text);
      const specs = onCalendar(s, "UTC");
      const got = new Set<string>();
      for (const spec of specs) {
        const r = await run("systemd-analyze", [
          "calendar",
          `--base-time=${base}`,
          "--iterations=12",
          spec,
        ], { TZ: "UTC" });
        equal(r.code, 0, `${spec}: ${r.stderr}`);
        for (const m of r.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w{3} (\S+ \S+) UTC/g)) {
          got.add(m[1]!);
        }
      }
      const times = [...got].sort().slice(0, 12);
      const want: string[] = [];
      for (let t = Date.parse("2026-03-30T23:59:00Z"); want.length < 12; t += 60_000) {
        if (cronMatches(s, new Date(t))) {
          want.push(new Date(t).toISOString().replace("T", " ").slice(0, 19));
        }
      }
      deepEqual(times, want, `${text} → ${specs.join(" + ")}`);
    }
  },
});

/** Discovery documents for kubectl, as an API server would serve them. */
function fakeApiServer(): { url: string; close(): Promise<void> } {
  const res = (name: string, kind: string) => ({
    name,
    singularName: kind.toLowerCase(),
    namespaced: true,
    kind,
    verbs: ["create", "get", "list"],
  });
  const group = (name: string) => ({
    name,
    versions: [{ groupVersion: `${name}/v1`, version: "v1" }],
    preferredVersion: { groupVersion: `${name}/v1`, version: "v1" },
  });
  const docs: Record<string, unknown> = {
    "/api": { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] },
    "/apis": { kind: "APIGroupList", apiVersion: "v1", groups: [group("apps"), group("batch")] },
    "/api/v1": {
      kind: "APIResourceList",
      groupVersion: "v1",
      resources: [res("services", "Service")],
    },
    "/apis/apps/v1": {
      kind: "APIResourceList",
      groupVersion: "apps/v1",
      resources: [res("deployments", "Deployment"), res("statefulsets", "StatefulSet")],
    },
    "/apis/batch/v1": {
      kind: "APIResourceList",
      groupVersion: "batch/v1",
      resources: [res("jobs", "Job"), res("cronjobs", "CronJob")],
    },
    "/version": { major: "1", minor: "32", gitVersion: "v1.32.0" },
  };
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    const d = docs[new URL(req.url).pathname];
    return d ? Response.json(d) : new Response("not found", { status: 404 });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

/** Parse a stream of concatenated JSON values. */
function jsonStream(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0, start = -1, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") {
      if (depth++ === 0) start = i;
    } else if (c === "}" && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
  }
  return out;
}

Deno.test({
  name:
    "kubernetes: kubectl create --dry-run=client parses every manifest back to what was exported",
  ignore: !which("kubectl") && !Deno.env.get("CI"),
  async fn() {
    const t = await tempDir();
    const api = fakeApiServer();
    try {
      const tab = await crontab(t.path);
      const args = [
        "export",
        "--to",
        "kubernetes",
        "--image",
        "registry.example/app:1",
        "--crontab",
        tab,
        ...inputs(),
      ];
      const r = await runUpkeep([...args, "--out", `${t.path}/k8s`]);
      equal(r.code, 0, r.stderr);
      // The same export in-process, for the objects as data.
      const inp: Inputs = { jobs: [], cron: [], errors: [], notes: [] };
      readJobs(inputs(), "/nonexistent", inp);
      readCrontab(tab, null, inp);
      const expected = exportAll(inp, {
        target: "kubernetes",
        image: "registry.example/app:1",
        users: loadUserDb(),
      });
      deepEqual(expected.errors, []);
      await Deno.writeTextFile(
        `${t.path}/kubeconfig`,
        [
          "apiVersion: v1",
          "kind: Config",
          `clusters: [{name: fake, cluster: {server: "${api.url}"}}]`,
          "contexts: [{name: fake, context: {cluster: fake, namespace: default}}]",
          "current-context: fake",
        ].join("\n"),
      );
      const k = await run("kubectl", [
        "create",
        "--dry-run=client",
        "--validate=false",
        "-o",
        "json",
        "-f",
        `${t.path}/k8s`,
      ], {
        KUBECONFIG: `${t.path}/kubeconfig`,
        HOME: t.path,
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      });
      equal(k.code, 0, k.stderr);
      const parsed = jsonStream(k.stdout) as { metadata: { namespace?: string } }[];
      equal(parsed.length, expected.files.length);
      // kubectl reads the directory in name order, the order of exportAll's files.
      for (let i = 0; i < parsed.length; i++) {
        delete parsed[i]!.metadata.namespace;
        deepEqual(parsed[i], expected.files[i]!.data, expected.files[i]!.path);
      }
      ok(
        expected.files.some((f) => f.path === "backup.yaml" && f.content.includes("kind: CronJob")),
      );
    } finally {
      await api.close();
      await t.cleanup();
    }
  },
});

Deno.test("the same input gives the same bytes, for every target", async () => {
  const t = await tempDir();
  try {
    const tab = await crontab(t.path);
    for (const to of ["systemd", "kubernetes", "nomad"]) {
      const args = ["export", "--to", to, "--image", "img:1", "--crontab", tab, ...inputs()];
      const a = await runUpkeep([...args, "--out", `${t.path}/${to}-a`]);
      const b = await runUpkeep([...args, "--out", `${t.path}/${to}-b`]);
      equal(a.code, 0, a.stderr);
      equal(b.code, 0, b.stderr);
      const names = [...Deno.readDirSync(`${t.path}/${to}-a`)].map((e) => e.name).sort();
      ok(names.length > 5);
      for (const n of names) {
        equal(
          Deno.readTextFileSync(`${t.path}/${to}-a/${n}`),
          Deno.readTextFileSync(`${t.path}/${to}-b/${n}`),
          n,
        );
      }
      const stdout = await runUpkeep(args);
      equal(stdout.code, 0, stdout.stderr);
      ok(stdout.stdout.includes(`# ==> ${names[0]} <==\n`));
    }
  } finally {
    await t.cleanup();
  }
});

Deno.test("--json lists what was written and what was not mapped, with lines", async () => {
  const t = await tempDir();
  try {
    const r = await runUpkeep([
      "export",
      "--to",
      "systemd",
      "--json",
      "--out",
      t.path,
      `${FIXTURES}/rich.conf`,
    ]);
    equal(r.code, 0, r.stderr);
    equal(r.stderr, "");
    const report = JSON.parse(r.stdout);
    equal(report.ok, true);
    deepEqual(report.files, [{
      path: `${t.path}/rich.service`,
      job: "rich",
      source: `${FIXTURES}/rich.conf`,
    }]);
    deepEqual(report.errors, []);
    ok(
      report.notMapped.some((n: { line: number; stanza: string; severity: string }) =>
        n.line === 25 && n.stanza === "health exec" && n.severity === "warning"
      ),
    );
    ok(Deno.statSync(`${t.path}/rich.service`).isFile);
  } finally {
    await t.cleanup();
  }
});

Deno.test("--strict: a warning is an error (exit 1) and nothing is written", async () => {
  const t = await tempDir();
  try {
    const r = await runUpkeep([
      "export",
      "--to",
      "nomad",
      "--strict",
      "--out",
      `${t.path}/out`,
      `${FIXTURES}/rich.conf`,
    ]);
    equal(r.code, 1);
    ok(/rich\.conf:33: warning: rich: pre-stop: Nomad has no hook/.test(r.stderr), r.stderr);
    ok(r.stderr.includes("with --strict: nothing written"));
    equal(r.stdout, "");
    ok(!(await Deno.stat(`${t.path}/out`).then(() => true, () => false)));
    const clean = await runUpkeep([
      "export",
      "--to",
      "systemd",
      "--strict",
      `${EXAMPLES}/delayed-job.conf`,
    ]);
    equal(clean.code, 0, clean.stderr);
  } finally {
    await t.cleanup();
  }
});

Deno.test("errors: a bad job file, a bad crontab line, a missing image, usage errors", async () => {
  const t = await tempDir();
  try {
    await Deno.writeTextFile(`${t.path}/bad.conf`, "exec /bin/true\nbogus stanza\n");
    const bad = await runUpkeep(["export", "--to", "systemd", `${t.path}/bad.conf`]);
    equal(bad.code, 1);
    ok(bad.stderr.includes(`${t.path}/bad.conf:2: Unknown stanza`), bad.stderr);
    await Deno.writeTextFile(`${t.path}/tab`, "61 * * * * upkeep run -- /bin/true\n");
    const tab = await runUpkeep(["export", "--to", "systemd", "--crontab", `${t.path}/tab`]);
    equal(tab.code, 1);
    ok(tab.stderr.includes(`${t.path}/tab:1: Bad minute '61'`), tab.stderr);
    const img = await runUpkeep(["export", "--to", "kubernetes", `${EXAMPLES}/web.conf`]);
    equal(img.code, 1);
    ok(img.stderr.includes("--image"), img.stderr);
    const perJob = await runUpkeep([
      "export",
      "--to",
      "kubernetes",
      "--image",
      "web=nginx:1",
      `${EXAMPLES}/web.conf`,
    ]);
    equal(perJob.code, 0, perJob.stderr);
    ok(perJob.stdout.includes('image: "nginx:1"'));
    equal((await runUpkeep(["export", `${EXAMPLES}/web.conf`])).code, 2);
    equal((await runUpkeep(["export", "--to", "upstart"])).code, 2);
    const byName = await runUpkeep(["export", "--to", "systemd", "--conf-dir", EXAMPLES, "web"]);
    equal(byName.code, 0, byName.stderr);
    ok(byName.stdout.includes("# ==> web.service <==\n"));
    const help = await runUpkeep(["export", "--help"]);
    equal(help.code, 0);
    ok(help.stdout.startsWith("Usage: upkeep export --to TARGET"));
  } finally {
    await t.cleanup();
  }
});
