/**
 * The control server's deadlines on a real socket (lib/control/deadlines.ts keeps them): a client
 * that sends nothing is cut off after the read timeout, and a request that waits for a job gets
 * `waiting` lines, then its reply. (That the tick stops is tests/unit/control/deadlines_test.ts.)
 */

import { equal, ok } from "node:assert/strict";
import { ControlServer, defaultServerLimits } from "../../../lib/control/server.ts";
import { PROTOCOL_VERSION, WAITING_LINE } from "../../../lib/control/protocol.ts";
import { TICK_MS } from "../../../lib/control/deadlines.ts";

async function withServer(
  handler: ConstructorParameters<typeof ControlServer>[1],
  limits: { readTimeoutMs?: number; keepAliveMs?: number },
  fn: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "upkeep-server-" });
  const server = new ControlServer(`${dir}/s.sock`, handler, {
    ...defaultServerLimits(1024),
    ...limits,
  });
  server.listen();
  try {
    await fn(`${dir}/s.sock`);
  } finally {
    server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** What the server has sent so far, and whether it closed the connection (or `ms` passed). */
function reader(conn: Deno.Conn, ms: number) {
  const start = performance.now();
  const state = { text: "", closedAt: -1 };
  const limit = setTimeout(() => conn.close(), ms);
  const done = (async () => {
    const buf = new Uint8Array(4096);
    const dec = new TextDecoder();
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        state.text += dec.decode(buf.subarray(0, n), { stream: true });
      }
    } catch { /* closed by the limit */ }
    clearTimeout(limit);
    state.closedAt = performance.now() - start;
  })();
  return { state, done };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("server: a client that sends nothing is cut off after the read timeout", async () => {
  await withServer(
    () => Promise.resolve({ v: PROTOCOL_VERSION, ok: true, out: "" }),
    { readTimeoutMs: 300 },
    async (path) => {
      const conn = await Deno.connect({ transport: "unix", path });
      const { state, done } = reader(conn, 10_000);
      await done;
      try {
        conn.close();
      } catch { /* closed */ }
      const { text, closedAt } = state;
      equal(text, "");
      ok(closedAt >= 250, `closed after ${closedAt} ms`);
      ok(closedAt < 300 + TICK_MS + 2000, `closed after ${closedAt} ms`);
    },
  );
});

Deno.test("server: a request that waits gets waiting lines, then its reply", async () => {
  let release = () => {};
  await withServer(
    () =>
      new Promise((resolve) => {
        release = () => resolve({ v: PROTOCOL_VERSION, ok: true, out: "done" });
      }),
    { keepAliveMs: 200 },
    async (path) => {
      const conn = await Deno.connect({ transport: "unix", path });
      const request = JSON.stringify({ v: PROTOCOL_VERSION, cmd: "status", args: [], options: {} });
      await conn.write(new TextEncoder().encode(request + "\n"));
      const { state, done } = reader(conn, 20_000);
      // Two waiting lines (200 ms apart, checked every TICK_MS) while the handler waits.
      const waiting = new TextDecoder().decode(WAITING_LINE);
      await until(() => state.text.split(waiting).length - 1 >= 2);
      release();
      await done;
      conn.close();
      const text = state.text;
      ok(text.startsWith(waiting + waiting), text);
      ok(text.endsWith("done"), text);
    },
  );
});
