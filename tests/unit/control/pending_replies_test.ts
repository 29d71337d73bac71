/**
 * Replies that wait for clients that do not read are bounded on the read-only socket
 * (lib/control/server.ts READ_ONLY_PENDING_BYTES): past the budget a request is told the daemon
 * is busy instead of making it hold one more copy of a big reply. Before, 64 such clients of a
 * 5,000-job `list --json` held 100 MB and more.
 */

import { equal, match, ok } from "node:assert/strict";
import { sendRequest } from "../../../lib/control/client.ts";
import { PROTOCOL_VERSION, readOnlySocketPath } from "../../../lib/control/protocol.ts";
import {
  ControlServer,
  defaultServerLimits,
  READ_ONLY_PENDING_BYTES,
} from "../../../lib/control/server.ts";
import { waitFor } from "../../e2e/helpers.ts";

const MIB = 1024 * 1024;

Deno.test("read-only clients that never read hold at most the budget; then others hear busy", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upkeep-pending-" });
  const path = `${dir}/s.sock`;
  const big = "x".repeat(MIB);
  const server = new ControlServer(
    path,
    () => Promise.resolve({ v: PROTOCOL_VERSION, ok: true, out: big }),
    defaultServerLimits(1 << 20),
  );
  server.listen();
  const request = { v: PROTOCOL_VERSION, cmd: "status", args: ["a"], options: {} };
  // 12 clients ask, then never read (a reply of 1 MiB does not fit in a socket's buffer).
  const script = "import socket,sys,time,json\n" +
    "ss=[socket.socket(socket.AF_UNIX) for _ in range(12)]\n" +
    "for s in ss:\n  s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode()+b'\\n')\n" +
    "time.sleep(60)\n";
  const child = new Deno.Command("python3", {
    args: ["-c", script, readOnlySocketPath(path), JSON.stringify(request)],
  }).spawn();
  try {
    const full = Math.floor(READ_ONLY_PENDING_BYTES / MIB) * MIB;
    await waitFor(() => server.pendingBytes.readOnly >= full, "the budget taken up");
    ok(server.pendingBytes.readOnly <= READ_ONLY_PENDING_BYTES, "over the budget");
    const r = await sendRequest(readOnlySocketPath(path), request, 5000);
    equal(r.ok, false);
    if (!r.ok) match(r.error, /busy: too much output waiting/);
    child.kill();
    await child.status;
    await waitFor(() => server.pendingBytes.readOnly === 0, "the clients gone");
    const again = await sendRequest(readOnlySocketPath(path), request, 5000);
    equal(again.ok && again.out.length, MIB);
  } finally {
    try {
      child.kill();
      await child.status;
    } catch { /* ended */ }
    server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
