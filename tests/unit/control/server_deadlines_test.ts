/**
 * The control server's deadlines on a real socket (lib/control/deadlines.ts keeps them): a client
 * that sends nothing is cut off after the read timeout, a request that waits for a job gets
 * `waiting` lines, and an answered request leaves no timer behind.
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

/** Everything the server sends until it closes the connection (or `ms` pass). */
async function readAll(conn: Deno.Conn, ms: number): Promise<{ text: string; closedAt: number }> {
  const start = performance.now();
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  const limit = setTimeout(() => conn.close(), ms);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
  } catch { /* closed by the limit */ }
  clearTimeout(limit);
  const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  return { text, closedAt: performance.now() - start };
}

Deno.test("server: a client that sends nothing is cut off after the read timeout", async () => {
  await withServer(
    () => Promise.resolve({ v: PROTOCOL_VERSION, ok: true, out: "" }),
    { readTimeoutMs: 300 },
    async (path) => {
      const conn = await Deno.connect({ transport: "unix", path });
      const { text, closedAt } = await readAll(conn, 10_000);
      try {
        conn.close();
      } catch { /* closed */ }
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
      const reading = readAll(conn, 20_000);
      // Two waiting lines at least (200 ms apart, checked every TICK_MS), then the answer.
      await new Promise((r) => setTimeout(r, 2 * TICK_MS + 600));
      release();
      const { text } = await reading;
      conn.close();
      const waiting = new TextDecoder().decode(WAITING_LINE);
      const lines = text.split("\n").filter(Boolean);
      ok(lines.filter((l) => l + "\n" === waiting).length >= 2, text);
      ok(text.endsWith("done"), text);
    },
  );
});
