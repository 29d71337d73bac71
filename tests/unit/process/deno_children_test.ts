/**
 * The daemon reaps every child of its own on sight except those Deno spawned and reaps itself
 * (lib/process/deno_children.ts). So every `Deno.Command` in lib/ is either registered there or
 * known never to run inside the daemon: a new one fails this test until someone decides which.
 */

import { deepEqual, equal } from "node:assert/strict";

const LIB = new URL("../../../lib/", import.meta.url).pathname;

/** Spawners that register their children (they may run inside the daemon). */
const REGISTERED = ["health/check.ts", "process/spawn.ts"];
/** Spawners of commands that never run inside the daemon (its CLI clients and installers). */
const OUTSIDE_THE_DAEMON = [
  "cli/doctor.ts",
  "cli/install.ts",
  "cli/upgrade.ts",
  "cli/version_text.ts",
  "cli/watchdog.ts",
  "install/apply.ts",
];

function spawners(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const path = `${dir}/${e.name}`;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...spawners(path, r));
    else if (e.name.endsWith(".ts") && Deno.readTextFileSync(path).includes("new Deno.Command(")) {
      out.push(r);
    }
  }
  return out;
}

Deno.test("every Deno.Command in lib/ registers its child, or runs outside the daemon", () => {
  deepEqual(spawners(LIB.replace(/\/$/, "")).sort(), [...REGISTERED, ...OUTSIDE_THE_DAEMON].sort());
  for (const f of REGISTERED) {
    equal(Deno.readTextFileSync(`${LIB}${f}`).includes("denoChildren.add("), true, f);
  }
});
