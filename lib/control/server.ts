/**
 * The control socket server. Two Unix sockets: PATH (mode 0600, the daemon's user: every command)
 * and PATH.ro (mode 0666: read-only commands). Filesystem permissions decide who reaches which, so
 * nothing the client says is trusted. Each connection carries one request and one reply; garbage,
 * half requests, oversized requests and clients that hang up get an error or are dropped, and
 * never disturb the daemon or its jobs.
 */

import { readLine } from "./client.ts";
import {
  decodeRequest,
  encodeMessage,
  errorReply,
  ProtocolError,
  readOnlySocketPath,
  type Reply,
  type Request,
} from "./protocol.ts";

export type RequestHandler = (request: Request, privileged: boolean) => Promise<Reply>;

/** How long a client may take to send its request. */
const REQUEST_TIMEOUT_MS = 5_000;

export class ControlServer {
  readonly #listeners: Deno.Listener[] = [];
  #closed = false;

  constructor(readonly socketPath: string, private readonly handler: RequestHandler) {}

  /** Bind both sockets (removing stale files) and start accepting. */
  listen(): void {
    for (
      const [path, mode, privileged] of [
        [this.socketPath, 0o600, true],
        [readOnlySocketPath(this.socketPath), 0o666, false],
      ] as const
    ) {
      try {
        Deno.removeSync(path);
      } catch { /* not there */ }
      const listener = Deno.listen({ transport: "unix", path });
      Deno.chmodSync(path, mode);
      this.#listeners.push(listener);
      this.#accept(listener, privileged);
    }
  }

  async #accept(listener: Deno.Listener, privileged: boolean): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        if (this.#closed) return;
        continue;
      }
      this.#serve(conn, privileged);
    }
  }

  async #serve(conn: Deno.Conn, privileged: boolean): Promise<void> {
    const timer = setTimeout(() => {
      try {
        conn.close();
      } catch { /* closed */ }
    }, REQUEST_TIMEOUT_MS);
    let reply: Reply;
    try {
      const line = await readLine(conn);
      clearTimeout(timer);
      if (line === null) return close(conn);
      const request = decodeRequest(line);
      reply = await this.handler(request, privileged);
    } catch (e) {
      clearTimeout(timer);
      reply = errorReply(
        e instanceof ProtocolError
          ? e.message
          : `internal error: ${e instanceof Error ? e.message : e}`,
      );
    }
    try {
      const bytes = encodeMessage(reply);
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    } catch { /* the client went away */ }
    close(conn);
  }

  close(): void {
    this.#closed = true;
    for (const l of this.#listeners) {
      try {
        l.close();
      } catch { /* closed */ }
    }
  }
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* closed */ }
}
