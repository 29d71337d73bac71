/**
 * sendRequest's inactivity timeout against a scripted daemon on a real Unix socket: silence for
 * the whole timeout gives up, and every line the daemon sends (waiting lines included) moves the
 * deadline, however long the whole reply takes. A connect refused for a full backlog is tried
 * again until the timeout.
 */

import * as assert from "node:assert/strict";
import { sendRequest, TimeoutError } from "../../../lib/control/client.ts";
import { encodeReply, PROTOCOL_VERSION, WAITING_LINE } from "../../../lib/control/protocol.ts";

const REQUEST = { v: PROTOCOL_VERSION, cmd: "status", args: ["x"], options: {} };

/**
 * A daemon that reads one request, then plays `script` (writes, and pauses in ms) per client. It
 * accepts its first connection once `startAccepting` settles.
 */
async function withDaemon(
  script: (Uint8Array | number)[],
  fn: (socket: string) => Promise<void>,
  startAccepting: Promise<void> = Promise.resolve(),
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "upkeep-client-" });
  const socket = `${dir}/s.sock`;
  const listener = Deno.listen({ transport: "unix", path: socket });
  const served: Promise<void>[] = [];
  const accepting = (async () => {
    await startAccepting;
    try {
      for await (const conn of listener) {
        served.push((async () => {
          try {
            await conn.read(new Uint8Array(4096));
            for (const step of script) {
              if (typeof step === "number") await new Promise((r) => setTimeout(r, step));
              else await conn.write(step);
            }
            // Silent from here on, until the client goes.
            await conn.read(new Uint8Array(16)).catch(() => null);
          } catch { /* the client closed */ }
          try {
            conn.close();
          } catch { /* closed */ }
        })());
      }
    } catch { /* closed */ }
  })();
  try {
    await fn(socket);
  } finally {
    listener.close();
    await accepting;
    await Promise.all(served);
    await Deno.remove(dir, { recursive: true });
  }
}

function reply(out: string): Uint8Array[] {
  const { header, body } = encodeReply({ v: PROTOCOL_VERSION, ok: true, out });
  return [header, body];
}

Deno.test("sendRequest: waiting lines keep a request alive past its timeout", async () => {
  const waits = Array.from({ length: 8 }, () => [200, WAITING_LINE]).flat();
  await withDaemon([...waits, 200, ...reply("x start/running")], async (socket) => {
    const t0 = performance.now();
    const r = await sendRequest(socket, REQUEST, 1000);
    assert.deepEqual(r, { v: PROTOCOL_VERSION, ok: true, out: "x start/running" });
    assert.ok(performance.now() - t0 >= 1800, "the reply came before the script ended");
  });
});

Deno.test("sendRequest: silence after a waiting line gives up one timeout after that line", async () => {
  await withDaemon([300, WAITING_LINE], async (socket) => {
    const t0 = performance.now();
    await assert.rejects(sendRequest(socket, REQUEST, 500), TimeoutError);
    // Never earlier than the waiting line plus a whole timeout.
    assert.ok(performance.now() - t0 >= 800, `gave up after ${performance.now() - t0} ms`);
  });
});

Deno.test("sendRequest: a daemon that never answers is given up on", async () => {
  await withDaemon([], async (socket) => {
    const t0 = performance.now();
    await assert.rejects(sendRequest(socket, REQUEST, 300), TimeoutError);
    assert.ok(performance.now() - t0 >= 300);
  });
});

Deno.test("sendRequest: no timeout (0) waits for a slow answer", async () => {
  await withDaemon([700, ...reply("late")], async (socket) => {
    const r = await sendRequest(socket, REQUEST, 0);
    assert.equal(r.ok && r.out, "late");
  });
});

/** Connections to `socket` made until its listener's backlog is full (the next one: EAGAIN). */
async function fillBacklog(socket: string): Promise<Deno.UnixConn[]> {
  const conns: Deno.UnixConn[] = [];
  for (;;) {
    try {
      conns.push(await Deno.connect({ transport: "unix", path: socket }));
    } catch (e) {
      assert.ok(e instanceof Deno.errors.WouldBlock, String(e));
      return conns;
    }
  }
}

Deno.test("sendRequest: a full backlog is waited out, as a blocking connect would", async () => {
  let open = () => {};
  const opened = new Promise<void>((resolve) => open = resolve);
  await withDaemon(reply("x start/running"), async (socket) => {
    const queued = await fillBacklog(socket);
    const asking = sendRequest(socket, REQUEST, 5000);
    // Room comes only later. Nothing shows a refused try from outside: a pause gives the client
    // time to be refused (a client that gives up at a refusal fails the test; a slow machine that
    // makes no try in the pause lets this pass, it cannot make it fail).
    await new Promise((r) => setTimeout(r, 200));
    for (const c of queued) c.close();
    open();
    assert.deepEqual(await asking, { v: PROTOCOL_VERSION, ok: true, out: "x start/running" });
  }, opened);
});

Deno.test("sendRequest: a backlog full for the whole timeout is given up on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upkeep-client-" });
  const socket = `${dir}/s.sock`;
  const listener = Deno.listen({ transport: "unix", path: socket });
  const queued = await fillBacklog(socket);
  try {
    const t0 = performance.now();
    await assert.rejects(
      sendRequest(socket, REQUEST, 300),
      (e) =>
        e instanceof TimeoutError && /did not take the connection within 0\.3 s/.test(e.message),
    );
    assert.ok(performance.now() - t0 >= 300);
  } finally {
    for (const c of queued) c.close();
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});
