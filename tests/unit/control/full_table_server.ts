/**
 * A control server whose process has no descriptor free (run under `ulimit -n 64` by
 * fd_reserve_test.ts): it listens on Deno.args[0], then opens /dev/null until EMFILE, prints
 * `full N` and serves until killed. Owner requests are answered `owner`.
 */

import { ControlServer, defaultServerLimits } from "../../../lib/control/server.ts";

// Deno registers its own SIGUSR1 listener lazily; with no descriptor free that would panic.
Deno.addSignalListener("SIGUSR1", () => {});
const server = new ControlServer(
  Deno.args[0]!,
  () => Promise.resolve({ v: 2, ok: true, out: "owner" }),
  defaultServerLimits(64),
);
server.listen();
const held: Deno.FsFile[] = [];
for (;;) {
  try {
    held.push(Deno.openSync("/dev/null"));
  } catch {
    break;
  }
}
console.log(`full ${held.length}`);
