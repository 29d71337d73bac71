import assert from "node:assert/strict";
import { entryKey, mergeEntries } from "../../../lib/install/manifest.ts";
import { systemPaths, userPaths, withOverrides } from "../../../lib/install/paths.ts";
import { planInstall } from "../../../lib/install/plan.ts";

const launcher = { launcher: ["/usr/bin/deno", "run", "-A", "/src/main.ts"] };

Deno.test("planInstall() links every Upstart command name to the binary", () => {
  const p = planInstall({
    choice: { kind: "systemd", reason: "t" },
    paths: systemPaths(),
    user: false,
    binary: launcher,
  });
  assert.ok(typeof p !== "string");
  const links = p.steps.flatMap((s) =>
    s.kind === "symlink" && s.target === "upkeep" ? [s.path] : []
  );
  assert.deepEqual(
    links,
    ["initctl", "start", "stop", "status", "restart", "reload"].map((n) => `/usr/local/sbin/${n}`),
  );
  assert.deepEqual(p.activate.map((c) => c.argv.join(" ")), [
    "systemctl daemon-reload",
    "systemctl start upkeep.service",
  ]);
});

Deno.test("planInstall() refuses an inittab command longer than sysvinit keeps", () => {
  const long = withOverrides(systemPaths("/opt/a/very/long/prefix/for/the/upkeep/supervisor"), {});
  const res = planInstall({
    choice: { kind: "inittab", flavour: "sysvinit", reason: "t" },
    paths: long,
    user: false,
    binary: launcher,
  });
  assert.equal(typeof res, "string");
  assert.match(res as string, /more than sysvinit's 127/);
  const bb = planInstall({
    choice: { kind: "inittab", flavour: "busybox", reason: "t" },
    paths: long,
    user: false,
    binary: launcher,
  });
  assert.notEqual(typeof bb, "string");
});

Deno.test("planInstall() for --user uses the crontab and the home directory", () => {
  const p = planInstall({
    choice: { kind: "cron", reason: "t" },
    paths: userPaths("/home/ann"),
    user: true,
    binary: launcher,
  });
  assert.ok(typeof p !== "string");
  assert.ok(p.steps.some((s) => s.kind === "crontab"));
  assert.ok(!p.steps.some((s) => "path" in s && s.path.startsWith("/etc")));
  assert.equal(p.bootCommand[0], "/home/ann/.local/bin/upkeep");
});

Deno.test("withOverrides() puts the socket in an overridden state dir", () => {
  const p = withOverrides(systemPaths(), { stateDir: "/srv/up/" });
  assert.equal(p.stateDir, "/srv/up");
  assert.equal(p.socket, "/srv/up/upkeep.sock");
  assert.equal(withOverrides(systemPaths(), { socket: "/s.sock" }).socket, "/s.sock");
});

Deno.test("mergeEntries() keeps earlier entries and adds only new ones", () => {
  const a = { kind: "dir", path: "/etc/init" } as const;
  const b = { kind: "file", path: "/x" } as const;
  const c = { kind: "line", path: "/etc/inittab", line: "upk:2345:respawn:x" } as const;
  assert.deepEqual(mergeEntries([a, b], [b, c]), [a, b, c]);
  assert.notEqual(entryKey(a), entryKey({ kind: "file", path: "/etc/init" }));
});
