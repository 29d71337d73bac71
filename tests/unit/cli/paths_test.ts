/** Unit tests of defaultPaths(): root's paths, the XDG paths of a user, never /tmp. */

import assert from "node:assert/strict";
import { defaultPaths, passwdHome } from "../../../lib/cli/paths.ts";

const env = (vars: Record<string, string>) => (k: string) => vars[k];

Deno.test("defaultPaths() gives root /etc/init, /run/upkeep and /var/log/upkeep", () => {
  assert.deepEqual(defaultPaths(env({}), 0), {
    confDirs: ["/etc/init"],
    stateDir: "/run/upkeep",
    logDir: "/var/log/upkeep",
    socket: "/run/upkeep/upkeep.sock",
  });
});

Deno.test("defaultPaths() puts a user's daemon under their home and runtime dir", () => {
  const p = defaultPaths(env({ HOME: "/home/a", XDG_RUNTIME_DIR: "/run/user/1000" }), 1000);
  assert.deepEqual(p, {
    confDirs: ["/home/a/.config/upkeep/init"],
    stateDir: "/run/user/1000/upkeep",
    logDir: "/home/a/.local/state/upkeep/log",
    socket: "/run/user/1000/upkeep/upkeep.sock",
  });
});

Deno.test("defaultPaths() without HOME uses the passwd home, and never a /tmp path", () => {
  const p = defaultPaths(env({}), 1000, () => "/srv/a");
  assert.equal(p.stateDir, "/srv/a/.local/state/upkeep/run");
  assert.throws(() => defaultPaths(env({}), 1000, () => null), /no home directory for uid 1000/);
  assert.throws(() => defaultPaths(env({ HOME: "relative" }), 1000, () => null), /no home/);
});

Deno.test("passwdHome() finds a uid's home in passwd text", () => {
  const text =
    "root:x:0:0::/root:/bin/sh\na:x:1000:1000::/home/a:/bin/sh\nb:x:1001:1001:::/bin/sh\n";
  assert.equal(passwdHome(1000, text), "/home/a");
  assert.equal(passwdHome(1001, text), null);
  assert.equal(passwdHome(5, text), null);
});
