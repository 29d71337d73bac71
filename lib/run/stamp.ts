/**
 * Splits a byte stream into lines and prefixes each with a time stamp, keeping an unfinished line
 * until its newline arrives (or the stream ends). Pure: the clock is passed in.
 */

const NL = 0x0a;
const encoder = new TextEncoder();

/** `2025-01-31T23:59:59.123Z ` style prefix (UTC, milliseconds). */
export function stampPrefix(ms: number): string {
  return `${new Date(ms).toISOString()} `;
}

export class LineStamper {
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #pendingSince = 0;

  /** Stamped complete lines in `chunk` (plus earlier pending bytes); the rest waits. */
  push(chunk: Uint8Array, nowMs: number): Uint8Array {
    const parts: Uint8Array[] = [];
    let start = 0;
    let prefix: Uint8Array | null = null;
    for (let nl = chunk.indexOf(NL); nl >= 0; nl = chunk.indexOf(NL, start)) {
      if (this.#pendingBytes) {
        parts.push(encoder.encode(stampPrefix(this.#pendingSince)), ...this.#pending);
        this.#pending = [];
        this.#pendingBytes = 0;
      } else {
        parts.push(prefix ??= encoder.encode(stampPrefix(nowMs)));
      }
      parts.push(chunk.subarray(start, nl + 1));
      start = nl + 1;
    }
    if (start < chunk.length) {
      if (!this.#pendingBytes) this.#pendingSince = nowMs;
      // copy: the caller may reuse its buffer
      this.#pending.push(chunk.slice(start));
      this.#pendingBytes += chunk.length - start;
    }
    return concat(parts);
  }

  /** The unfinished last line, stamped and ended with a newline; empty when there is none. */
  flush(): Uint8Array {
    if (!this.#pendingBytes) return new Uint8Array(0);
    const out = concat([
      encoder.encode(stampPrefix(this.#pendingSince)),
      ...this.#pending,
      new Uint8Array([NL]),
    ]);
    this.#pending = [];
    this.#pendingBytes = 0;
    return out;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
