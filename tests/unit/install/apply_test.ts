/** The install executor on a temp root: idempotence, manifest, never-replace, exact uninstall. */
import assert from "node:assert/strict";
import {
  applyInstall,
  applyUninstall,
  type Crontab,
  fsProbe,
  readManifest,
} from "../../../lib/install/apply.ts";
import { detectInit } from "../../../lib/install/detect.ts";
import type { Manifest } from "../../../lib/install/manifest.ts";
import { systemPaths, userPaths } from "../../../lib/install/paths.ts";
import { type Plan, planInstall } from "../../../lib/install/plan.ts";

const P = systemPaths();

function plan(kind: "systemd" | "openrc" | "inittab" | "cron", user = false): Plan {
  const paths = user ? userPaths("/home/ann") : P;
  const p = planInstall({
    choice: { kind, flavour: kind === "inittab" ? "sysvinit" : undefined, reason: "test" },
    paths,
    user,
    binary: { launcher: ["/usr/bin/deno", "run", "-A", "/src/main.ts"] },
  });
  if (typeof p === "string") throw new Error(p);
  return p;
}

function base(kind: Manifest["init"], user = false): Omit<Manifest, "entries"> {
  return { version: 1, init: kind, user, paths: user ? userPaths("/home/ann") : P };
}

/** Every path under root, sorted, with a trailing / on dirs and `-> target` on links. */
async function tree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(`${root}${rel}`)) {
      const p = `${rel}/${e.name}`;
      if (e.isSymlink) out.push(`${p} -> ${await Deno.readLink(`${root}${p}`)}`);
      else if (e.isDirectory) {
        out.push(`${p}/`);
        await walk(p);
      } else out.push(p);
    }
  };
  await walk("");
  return out.sort();
}

async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "upkeep-apply-" });
  try {
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("applyInstall() writes the systemd unit and enable link, then changes nothing", async () => {
  await withRoot(async (root) => {
    const first = await applyInstall(plan("systemd").steps, root, base("systemd"));
    assert.equal(first.changed, true);
    const unit = await Deno.readTextFile(`${root}/etc/systemd/system/upkeep.service`);
    assert.match(unit, /Restart=always/);
    assert.equal(
      await Deno.readLink(`${root}/etc/systemd/system/multi-user.target.wants/upkeep.service`),
      "/etc/systemd/system/upkeep.service",
    );
    assert.equal(((await Deno.stat(`${root}/usr/local/sbin/upkeep`)).mode ?? 0) & 0o777, 0o755);
    const before = await tree(root);
    const manifestText = await Deno.readTextFile(`${root}${P.manifest}`);
    const second = await applyInstall(plan("systemd").steps, root, base("systemd"));
    assert.equal(second.changed, false);
    assert.ok(second.results.every((r) => r.outcome === "unchanged"));
    assert.deepEqual(await tree(root), before);
    assert.equal(await Deno.readTextFile(`${root}${P.manifest}`), manifestText);
  });
});

Deno.test("applyInstall() never replaces another init's start/stop files", async () => {
  await withRoot(async (root) => {
    await Deno.mkdir(`${root}/usr/local/sbin`, { recursive: true });
    await Deno.writeTextFile(`${root}/usr/local/sbin/start`, "#!/bin/sh\necho other init\n");
    const res = await applyInstall(plan("cron").steps, root, base("cron"));
    const start = res.results.find((r) => r.what.startsWith("start command"));
    assert.equal(start?.outcome, "skipped");
    assert.equal(
      await Deno.readTextFile(`${root}/usr/local/sbin/start`),
      "#!/bin/sh\necho other init\n",
    );
    assert.equal(await Deno.readLink(`${root}/usr/local/sbin/stop`), "upkeep");
    await applyUninstall(res.manifest, root);
    assert.equal(
      await Deno.readTextFile(`${root}/usr/local/sbin/start`),
      "#!/bin/sh\necho other init\n",
    );
    assert.deepEqual(await tree(root), [
      "/usr/",
      "/usr/local/",
      "/usr/local/sbin/",
      "/usr/local/sbin/start",
    ]);
  });
});

Deno.test("applyUninstall() removes exactly what install added and keeps jobs and logs", async () => {
  await withRoot(async (root) => {
    await Deno.mkdir(`${root}/etc`, { recursive: true });
    const inittab = "id:2:initdefault:\n1:2345:respawn:/sbin/getty 38400 tty1\n";
    await Deno.writeTextFile(`${root}/etc/inittab`, inittab);
    const before = await tree(root);
    const res = await applyInstall(plan("inittab").steps, root, base("inittab"));
    assert.match(
      await Deno.readTextFile(`${root}/etc/inittab`),
      /^upk:2345:respawn:\/usr\/local\/sbin\/upkeep daemon /m,
    );
    await Deno.writeTextFile(`${root}/etc/init/web.conf`, "exec sleep 1\n");
    await Deno.writeTextFile(`${root}/var/log/upkeep/web.log`, "hello\n");
    const manifest = await readManifest(root, P.manifest);
    assert.ok(manifest);
    await applyUninstall(manifest, root);
    assert.equal(await Deno.readTextFile(`${root}/etc/inittab`), inittab);
    assert.deepEqual(
      await tree(root),
      [
        ...before,
        "/etc/init/",
        "/etc/init/web.conf",
        "/var/",
        "/var/log/",
        "/var/log/upkeep/",
        "/var/log/upkeep/web.log",
      ].sort(),
    );
    assert.equal(res.changed, true);
  });
});

Deno.test("applyInstall() into an empty root then uninstall leaves the root empty", async () => {
  for (const kind of ["systemd", "openrc", "inittab", "cron"] as const) {
    await withRoot(async (root) => {
      const res = await applyInstall(plan(kind).steps, root, base(kind));
      assert.ok((await tree(root)).length > 5, kind);
      await applyUninstall(res.manifest, root);
      assert.deepEqual(await tree(root), [], kind);
    });
  }
});

Deno.test("applyInstall() adds the user's crontab lines once and uninstall takes them out", async () => {
  await withRoot(async (root) => {
    let text = "MAILTO=ann\n0 3 * * * /usr/bin/backup\n";
    const crontab: Crontab = {
      read: () => Promise.resolve(text),
      write: (t) => {
        text = t;
        return Promise.resolve();
      },
    };
    const p = plan("cron", true);
    const res = await applyInstall(p.steps, root, base("cron", true), crontab);
    assert.match(text, /^@reboot \/home\/ann\/\.local\/bin\/upkeep watchdog /m);
    assert.match(text, /^\* \* \* \* \* \/home\/ann\/\.local\/bin\/upkeep watchdog /m);
    const once = text;
    assert.equal((await applyInstall(p.steps, root, base("cron", true), crontab)).changed, false);
    assert.equal(text, once);
    await applyUninstall(res.manifest, root, crontab);
    assert.equal(text, "MAILTO=ann\n0 3 * * * /usr/bin/backup\n");
  });
});

Deno.test("fsProbe() reads detection facts under the root", async () => {
  await withRoot(async (root) => {
    assert.equal(detectInit(fsProbe(root)).kind, "cron");
    await Deno.mkdir(`${root}/sbin`, { recursive: true });
    await Deno.symlink("/lib/systemd/systemd", `${root}/sbin/init`);
    assert.equal(detectInit(fsProbe(root)).kind, "systemd");
  });
});
