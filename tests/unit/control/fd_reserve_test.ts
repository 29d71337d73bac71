/**
 * The control sockets with the fd table full (lib/control/fd_reserve.ts): a server process under
 * `ulimit -n 64` holds every descriptor; hundreds of dead connections queue on both sockets; the
 * owner's request behind them is served, and a read-only client is told why it is not.
 */

import { equal, match } from "node:assert/strict";
import { sendRequest } from "../../../lib/control/client.ts";
import { PROTOCOL_VERSION } from "../../../lib/control/protocol.ts";
import { deadConnections } from "../../e2e/helpers.ts";

const SERVER = new URL("./full_table_server.ts", import.meta.url).pathname;

Deno.test("with no descriptor free, the owner is served and read-only clients told why", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upkeep-fdres-" });
  const path = `${dir}/s.sock`;
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", 'ulimit -n 64 && exec "$@"', "sh", Deno.execPath(), "run", "-A", SERVER, path],
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const { value } = await lines.read();
    match(value ?? "", /^full \d+/);
    equal(await deadConnections(path, 300) > 100, true);
    equal(await deadConnections(`${path}.ro`, 300) > 100, true);
    const request = { v: PROTOCOL_VERSION, cmd: "status", args: [], options: {} };
    for (let i = 0; i < 3; i++) {
      const owner = await sendRequest(path, request, 10_000);
      equal(owner.ok && owner.out, "owner");
      const ro = await sendRequest(`${path}.ro`, request, 10_000);
      match(ro.ok ? "" : ro.error, /upkeep is out of file descriptors \(Too many open files\)/);
    }
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await lines.cancel().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
