import assert from "node:assert/strict";
import { chooseInit, detectInit, type InitProbe } from "../../../lib/install/detect.ts";

/** A probe over a fake tree: dirs, files (with text) and symlinks. */
function probe(
  tree: { dirs?: string[]; files?: Record<string, string>; links?: Record<string, string> },
): InitProbe {
  const dirs = new Set(tree.dirs ?? []);
  const files = tree.files ?? {};
  const links = tree.links ?? {};
  return {
    isDir: (p) => dirs.has(p),
    exists: (p) => dirs.has(p) || p in files || p in links,
    readLink: (p) => links[p] ?? null,
    readText: (p) => files[p] ?? null,
  };
}

Deno.test("detectInit() picks systemd from /run/systemd/system or /sbin/init", () => {
  assert.equal(detectInit(probe({ dirs: ["/run/systemd/system"] })).kind, "systemd");
  const viaInit = detectInit(probe({ links: { "/sbin/init": "/lib/systemd/systemd" } }));
  assert.equal(viaInit.kind, "systemd");
  assert.match(viaInit.reason, /\/sbin\/init -> \/lib\/systemd\/systemd/);
});

Deno.test("detectInit() picks OpenRC from /sbin/openrc-run or /run/openrc", () => {
  assert.equal(detectInit(probe({ files: { "/sbin/openrc-run": "" } })).kind, "openrc");
  assert.equal(detectInit(probe({ dirs: ["/run/openrc"] })).kind, "openrc");
});

Deno.test("detectInit() prefers systemd over OpenRC and OpenRC over an inittab", () => {
  const all = probe({
    dirs: ["/run/systemd/system", "/run/openrc"],
    files: { "/etc/inittab": "" },
  });
  assert.equal(detectInit(all).kind, "systemd");
  const noSystemd = probe({ dirs: ["/run/openrc"], files: { "/etc/inittab": "" } });
  assert.equal(detectInit(noSystemd).kind, "openrc");
});

Deno.test("detectInit() tells a sysvinit inittab from a BusyBox one", () => {
  const sysv =
    "id:2:initdefault:\nsi::sysinit:/etc/init.d/rcS\n1:2345:respawn:/sbin/getty 38400 tty1\n";
  assert.deepEqual(
    detectInit(probe({ files: { "/etc/inittab": sysv } })),
    { kind: "inittab", flavour: "sysvinit", reason: "/etc/inittab exists" },
  );
  const bb = "::sysinit:/etc/init.d/rcS\ntty1::respawn:/sbin/getty 38400 tty1\n";
  assert.equal(detectInit(probe({ files: { "/etc/inittab": bb } })).flavour, "busybox");
  const bbLink = probe({
    files: { "/etc/inittab": sysv },
    links: { "/sbin/init": "/bin/busybox" },
  });
  assert.equal(detectInit(bbLink).flavour, "busybox");
});

Deno.test("detectInit() falls back to cron on an empty tree", () => {
  assert.equal(detectInit(probe({})).kind, "cron");
});

Deno.test("chooseInit() honours --init, with sysvinit forcing the sysvinit inittab format", () => {
  const p = probe({ dirs: ["/run/systemd/system"], files: { "/etc/inittab": "::sysinit:x\n" } });
  assert.equal(chooseInit("auto", p).kind, "systemd");
  assert.equal(chooseInit("cron", p).kind, "cron");
  assert.equal(chooseInit("openrc", p).kind, "openrc");
  assert.deepEqual(
    [chooseInit("sysvinit", p).kind, chooseInit("sysvinit", p).flavour],
    ["inittab", "sysvinit"],
  );
  assert.equal(chooseInit("inittab", p).flavour, "busybox");
});
