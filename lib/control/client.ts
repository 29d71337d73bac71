/**
 * The control client: connect to the daemon's socket, send one request, read one reply. When the
 * control socket refuses us (another user's daemon), it falls back to the read-only socket beside
 * it, which answers read commands and refuses the rest.
 */

import {
  decodeReply,
  encodeMessage,
  MAX_MESSAGE_BYTES,
  ProtocolError,
  readOnlySocketPath,
  type Reply,
  type Request,
} from "./protocol.ts";

export class ConnectError extends Error {}

async function connect(path: string): Promise<Deno.UnixConn> {
  try {
    return await Deno.connect({ transport: "unix", path });
  } catch (e) {
    if (e instanceof Deno.errors.PermissionDenied) {
      try {
        return await Deno.connect({ transport: "unix", path: readOnlySocketPath(path) });
      } catch {
        throw e;
      }
    }
    throw e;
  }
}

/** Send a request and return the reply. Throws ConnectError when no daemon answers. */
export async function sendRequest(
  socketPath: string,
  request: Request,
  timeoutMs = 0,
): Promise<Reply> {
  let conn: Deno.UnixConn;
  try {
    conn = await connect(socketPath);
  } catch (e) {
    const reason = e instanceof Deno.errors.NotFound
      ? `${socketPath}: No such file or directory`
      : e instanceof Deno.errors.ConnectionRefused
      ? `${socketPath}: Connection refused`
      : e instanceof Deno.errors.PermissionDenied
      ? `${socketPath}: Permission denied`
      : `${socketPath}: ${e instanceof Error ? e.message : e}`;
    throw new ConnectError(reason);
  }
  const timer = timeoutMs > 0 ? setTimeout(() => conn.close(), timeoutMs) : undefined;
  try {
    await writeAll(conn, encodeMessage(request));
    const line = await readLine(conn);
    if (line === null) throw new ProtocolError("upkeep closed the connection without a reply");
    return decodeReply(line);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/** Read up to the first newline (bounded by MAX_MESSAGE_BYTES); null on EOF with nothing read. */
export async function readLine(conn: Deno.Conn): Promise<string | null> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch {
      n = null;
    }
    if (n === null) break;
    const chunk = buf.slice(0, n);
    const nl = chunk.indexOf(10);
    if (nl >= 0) {
      chunks.push(chunk.subarray(0, nl));
      total += nl;
      return decode(chunks, total);
    }
    chunks.push(chunk);
    total += n;
    if (total > MAX_MESSAGE_BYTES) throw new ProtocolError("message too large");
  }
  return total ? decode(chunks, total) : null;
}

function decode(chunks: Uint8Array[], total: number): string {
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return new TextDecoder().decode(all);
}
