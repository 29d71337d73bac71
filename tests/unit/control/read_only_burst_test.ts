/**
 * A read-only flood does not hold the event loop (lib/control/server.ts READ_ONLY_BURST): with 200
 * connections waiting on the read-only socket, the loop gets a turn (a timer runs) before more
 * than a burst of them has been taken. Before, every waiting connection was taken first (an
 * accept that finds one resolves without a turn), and root's requests waited behind them.
 */

import { ok } from "node:assert/strict";
import { ControlServer, defaultServerLimits } from "../../../lib/control/server.ts";

Deno.test("the read-only socket takes a burst of waiting connections, then lets the loop turn", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upkeep-burst-" });
  const path = `${dir}/s.sock`;
  const server = new ControlServer(
    path,
    () => Promise.resolve({ v: 2, ok: true, out: "" }),
    defaultServerLimits(1 << 20),
  );
  server.listen();
  try {
    // 200 clients connect and stay, while this thread waits without a turn of the event loop:
    // they all wait in the backlog.
    const marker = `${dir}/connected`;
    const script = "import socket,sys,time\n" +
      "ss=[socket.socket(socket.AF_UNIX) for _ in range(200)]\n" +
      "[s.connect(sys.argv[1]) for s in ss]\nopen(sys.argv[2],'w').close()\ntime.sleep(30)\n";
    const child = new Deno.Command("python3", { args: ["-c", script, `${path}.ro`, marker] })
      .spawn();
    try {
      const until = Date.now() + 20_000;
      while (!exists(marker) && Date.now() < until) { /* a synchronous wait: no turn */ }
      ok(exists(marker), "the clients did not connect");
      const taken = await new Promise<number>((r) =>
        setTimeout(() => r(server.connections.readOnly), 0)
      );
      ok(taken <= 8, `${taken} read-only connections taken before the loop turned`);
    } finally {
      child.kill();
      await child.status;
    }
  } finally {
    server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
