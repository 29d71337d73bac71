/** The daemon's last net (lib/process/last_net.ts), in a real Deno: the program lives on. */

import { deepStrictEqual as assertEquals, match } from "node:assert/strict";
import { describeThrown } from "../../../lib/process/last_net.ts";

const MODULE = new URL("../../../lib/process/last_net.ts", import.meta.url).href;

Deno.test("last net: an uncaught error and an unhandled rejection are logged; the program goes on", async () => {
  const script = `
    import { installLastNet } from ${JSON.stringify(MODULE)};
    installLastNet((m) => console.log(m));
    setTimeout(() => { throw new Error("boom in a timer"); }, 1);
    setTimeout(() => { Promise.reject(new Error("rejected")); }, 5);
    setTimeout(() => console.log("still alive"), 30);
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  assertEquals(lines.length, 3, lines.join("\n"));
  match(lines[0]!, /^internal error \(uncaught\): boom in a timer \(at .+\)$/);
  match(lines[1]!, /^internal error \(unhandled rejection\): rejected \(at .+\)$/);
  assertEquals(lines[2], "still alive");
});

Deno.test("describeThrown: message and first frame; anything else as text", () => {
  const e = new Error("bad");
  match(describeThrown(e), /^bad \(at .+last_net_test\.ts:\d+:\d+\)$/);
  assertEquals(describeThrown("just text"), "just text");
  assertEquals(describeThrown(42), "42");
});
