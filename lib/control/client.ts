/**
 * The control client: connect to the daemon's socket, send one request, read the reply stream
 * (waiting lines, a header, then the output of any size). When the control socket refuses us
 * (another user's daemon), it falls back to the read-only socket beside it, which answers read
 * commands and refuses the rest. A daemon that sends nothing for `timeoutMs` (waiting lines count)
 * is given up on with a TimeoutError.
 */

import {
  decodeReplyHeader,
  encodeRequest,
  PROTOCOL_VERSION,
  ProtocolError,
  readOnlySocketPath,
  type Reply,
  type Request,
} from "./protocol.ts";
import { ConnReader, writeAll } from "./stream.ts";

export class ConnectError extends Error {}

/** The daemon said nothing for the whole timeout (or did not take the connection in that time). */
export class TimeoutError extends Error {
  constructor(readonly timeoutMs: number, what = "did not answer") {
    super(`upkeep ${what} within ${formatSeconds(timeoutMs)}`);
  }
}

/** The longest header line a client accepts (headers are small; the output follows them). */
const MAX_HEADER_BYTES = 1 << 20;

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

async function connect(path: string, timeoutMs: number): Promise<Deno.UnixConn> {
  try {
    return await connectWhenRoom(path, timeoutMs);
  } catch (e) {
    if (e instanceof Deno.errors.PermissionDenied) {
      try {
        return await connectWhenRoom(readOnlySocketPath(path), timeoutMs);
      } catch (ro) {
        if (ro instanceof TimeoutError) throw ro;
        throw e;
      }
    }
    throw e;
  }
}

/** The longest pause between two tries at a full backlog. */
const FULL_BACKLOG_PAUSE_MAX_MS = 50;

/**
 * Connect to `path`. A Unix socket connect does not wait: it is made or refused, and refused with
 * EAGAIN while the daemon's backlog of connections is full (a busy daemon, or a flood of other
 * clients). Then try again, after pauses of 1 ms doubling up to 50 ms, as a blocking connect(2)
 * would wait for room, for up to `timeoutMs` (0: for ever): a TimeoutError after that.
 */
async function connectWhenRoom(path: string, timeoutMs: number): Promise<Deno.UnixConn> {
  const deadline = timeoutMs > 0 ? performance.now() + timeoutMs : Infinity;
  for (let pauseMs = 1;; pauseMs = Math.min(pauseMs * 2, FULL_BACKLOG_PAUSE_MAX_MS)) {
    try {
      return await Deno.connect({ transport: "unix", path });
    } catch (e) {
      if (!(e instanceof Deno.errors.WouldBlock)) throw e;
      if (performance.now() >= deadline) {
        throw new TimeoutError(timeoutMs, "did not take the connection");
      }
      // A setTimeout (not the timer below): a pending Atomics wait does not keep the process alive.
      await new Promise((r) => setTimeout(r, Math.min(pauseMs, deadline - performance.now())));
    }
  }
}

/**
 * Send a request and return the reply. Throws ConnectError when no daemon answers the connect,
 * TimeoutError when it goes quiet for `timeoutMs` (0: wait for ever), ProtocolError otherwise.
 */
export async function sendRequest(
  socketPath: string,
  request: Request,
  timeoutMs = 0,
): Promise<Reply> {
  let timedOut = false;
  let conn: Deno.UnixConn | null = null;
  const timer = new InactivityTimer(timeoutMs, () => {
    timedOut = true;
    try {
      conn?.close();
    } catch { /* closed */ }
  });
  const arm = () => timer.arm();
  try {
    // A full backlog is waited out (for up to timeoutMs); the inactivity timer is armed once the
    // request is out.
    try {
      conn = await connect(socketPath, timeoutMs);
    } catch (e) {
      if (e instanceof TimeoutError) throw e;
      throw new ConnectError(connectReason(socketPath, e));
    }
    // A daemon that refuses us (too many connections) says why and closes before reading: a
    // failed write still leaves its answer to read.
    await writeAll(conn, encodeRequest(request)).catch(() => {});
    arm();
    const reader = new ConnReader(conn, 64 * 1024, arm);
    for (;;) {
      const line = await reader.readLine(MAX_HEADER_BYTES);
      if (timedOut) throw new TimeoutError(timeoutMs);
      if (line === null) throw new ProtocolError("upkeep closed the connection without a reply");
      const header = decodeReplyHeader(line);
      if ("waiting" in header) continue;
      if (!header.ok) return header;
      const body = await reader.readExactly(header.bytes);
      if (timedOut) throw new TimeoutError(timeoutMs);
      if (body === null) {
        throw new ProtocolError("upkeep closed the connection before the end of its reply");
      }
      return { v: header.v, ok: true, out: new TextDecoder().decode(body) };
    }
  } catch (e) {
    if (timedOut && !(e instanceof TimeoutError)) throw new TimeoutError(timeoutMs);
    throw e;
  } finally {
    timer.disarm();
    try {
      conn?.close();
    } catch { /* already closed */ }
  }
}

/**
 * Calls `onExpire` once `ms` pass without a new `arm()` (never when ms <= 0). Not a setTimeout:
 * Deno loads its timers' modules at the first one, ~7 ms of an initctl that otherwise takes a
 * few. Atomics.waitAsync on a cell nobody notifies times out through V8's own delayed task, and
 * a pending wait does not keep the process alive. One wait is pending at a time: `arm()` (every
 * chunk the daemon sends) only moves the deadline, and a wait that ends before it waits again for
 * the time left.
 */
class InactivityTimer {
  readonly #cell = new Int32Array(new SharedArrayBuffer(4));
  /** When silence is up (performance.now() ms); null when disarmed. */
  #deadline: number | null = null;
  #waiting = false;

  constructor(private readonly ms: number, private readonly onExpire: () => void) {}

  arm(): void {
    if (this.ms <= 0) return;
    this.#deadline = performance.now() + this.ms;
    if (!this.#waiting) this.#wait(this.ms);
  }

  disarm(): void {
    this.#deadline = null;
  }

  #wait(ms: number): void {
    const wait = Atomics.waitAsync(this.#cell, 0, 0, ms);
    this.#waiting = true;
    // Never settled at once here (ms > 0, nobody writes the cell); if it were, it counts as ended.
    void (wait.async ? wait.value : Promise.resolve()).then(() => {
      this.#waiting = false;
      if (this.#deadline === null) return;
      const left = this.#deadline - performance.now();
      if (left > 0) return this.#wait(left);
      this.#deadline = null;
      this.onExpire();
    });
  }
}

function connectReason(socketPath: string, e: unknown): string {
  return e instanceof Deno.errors.NotFound
    ? `${socketPath}: No such file or directory`
    : e instanceof Deno.errors.ConnectionRefused
    ? `${socketPath}: Connection refused`
    : e instanceof Deno.errors.PermissionDenied
    ? `${socketPath}: Permission denied`
    : `${socketPath}: ${e instanceof Error ? e.message : e}`;
}

/**
 * Wait until the daemon on `socket` answers (`ping`) again, as after `initctl reexec`: true once
 * it does, false after `timeoutMs`.
 */
export async function daemonAnswers(socket: string, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  // Let the daemon close its sockets for the exec first: a ping right away may reach the old one.
  await new Promise((r) => setTimeout(r, 100));
  while (performance.now() < deadline) {
    try {
      const r = await sendRequest(socket, {
        v: PROTOCOL_VERSION,
        cmd: "ping",
        args: [],
        options: {},
      }, 2000);
      if (r.ok) return true;
    } catch { /* not back yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
