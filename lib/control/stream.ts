/**
 * Reading the control protocol off a connection: a small buffered reader with bounded lines and
 * exact-length bodies, and a write-everything helper. Shared by the client and the server.
 */

import { ProtocolError } from "./protocol.ts";

export class ConnReader {
  #buf: Uint8Array = new Uint8Array(0);
  readonly #chunk: Uint8Array;

  /** `onData` is called on every chunk received (the client's inactivity timer). */
  constructor(
    private readonly conn: Deno.Conn,
    chunkSize = 64 * 1024,
    private readonly onData: () => void = () => {},
  ) {
    this.#chunk = new Uint8Array(chunkSize);
  }

  /** Read one chunk into the buffer; false on EOF (or a closed connection). */
  async #fill(): Promise<boolean> {
    let n: number | null;
    try {
      n = await this.conn.read(this.#chunk);
    } catch {
      n = null;
    }
    if (n === null) return false;
    this.onData();
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(this.#chunk.subarray(0, n), this.#buf.length);
    this.#buf = next;
    return true;
  }

  /**
   * The next line (without its newline) of at most `max` bytes; null on EOF before any byte; the
   * bytes read so far when the peer closes mid-line. Throws ProtocolError beyond `max`.
   */
  async readLine(max: number): Promise<string | null> {
    for (;;) {
      const nl = this.#buf.indexOf(10);
      if (nl >= 0) {
        if (nl > max) throw new ProtocolError(`request too large (the limit is ${max} bytes)`);
        const line = new TextDecoder().decode(this.#buf.subarray(0, nl));
        this.#buf = this.#buf.slice(nl + 1);
        return line;
      }
      if (this.#buf.length > max) {
        throw new ProtocolError(`request too large (the limit is ${max} bytes)`);
      }
      if (!(await this.#fill())) {
        if (this.#buf.length === 0) return null;
        const rest = new TextDecoder().decode(this.#buf);
        this.#buf = new Uint8Array(0);
        return rest;
      }
    }
  }

  /** Exactly `n` bytes, or null when the peer closed before all of them came. */
  async readExactly(n: number): Promise<Uint8Array | null> {
    const parts: Uint8Array[] = [];
    let have = 0;
    while (have < n) {
      if (this.#buf.length === 0 && !(await this.#fill())) return null;
      const take = this.#buf.subarray(0, Math.min(this.#buf.length, n - have));
      parts.push(take.slice());
      have += take.length;
      this.#buf = this.#buf.slice(take.length);
    }
    const out = new Uint8Array(n);
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }
}

/** Write every byte (a Unix socket write may take part of them). */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}
