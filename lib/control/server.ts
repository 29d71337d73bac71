/**
 * The control socket server. Two Unix sockets: PATH (mode 0600, the daemon's user: every command)
 * and PATH.ro (mode 0666: READ_ONLY_COMMANDS only). Filesystem permissions decide who reaches
 * which, so nothing the client says is trusted. Each socket is bound in a private (0700)
 * directory, given its final mode, then renamed into place: it never exists with another mode.
 *
 * Nothing a client does can stall the daemon or starve the owner:
 * - each socket has its own cap on connections (well under the daemon's open-files limit); a
 *   connection over the cap gets a one-line error and is closed at once;
 * - each socket keeps a few descriptors in reserve (fd_reserve.ts): when the fd table is full
 *   (jobs' log pipes and spawns took the rest), an accept takes one of them, so the owner's
 *   connection is served and a read-only one is told `upkeep is out of file descriptors` and
 *   closed; a backlog of connections is drained at once, not one per pause;
 * - a failing accept that no reserve can help is retried once a reserved descriptor is back, or
 *   after a pause: never in a busy loop;
 * - the read-only socket takes at most READ_ONLY_BURST waiting connections before the event loop
 *   gets a turn, so a flood of it does not hold the loop, and the owner's requests, for as long
 *   as it lasts;
 * - a request must arrive within the read deadline and within the socket's size limit;
 * - a reply must be taken within the write deadline, or the connection is closed and its buffer
 *   freed; replies are written in chunks, of any size;
 * - while the daemon waits for a job (initctl start...), a `waiting` line every few seconds tells
 *   the client the daemon is alive.
 */

import { Deadlines } from "./deadlines.ts";
import {
  decodeRequest,
  encodeReply,
  errorReply,
  MAX_READ_ONLY_REQUEST_BYTES,
  MAX_REQUEST_BYTES,
  ProtocolError,
  readOnlySocketPath,
  type Reply,
  type Request,
  WAITING_LINE,
} from "./protocol.ts";
import { ConnReader, writeAll } from "./stream.ts";
import { getNofile } from "../process/fast_spawn.ts";
import { FdReserve, outOfDescriptors } from "./fd_reserve.ts";

export type RequestHandler = (request: Request, privileged: boolean) => Promise<Reply>;

export interface SocketPolicy {
  readonly maxConnections: number;
  readonly maxRequestBytes: number;
  /** Descriptors held in reserve for accepts when the fd table is full. */
  readonly reserve: number;
  /**
   * Bytes of replies that may wait for their clients at once: a client that asks and never reads
   * makes the daemon hold its whole reply until the write deadline.
   */
  readonly maxPendingBytes: number;
}

export interface ServerLimits {
  readonly owner: SocketPolicy;
  readonly readOnly: SocketPolicy;
  /** How long a client may take to send its request. */
  readonly readTimeoutMs: number;
  /** How long a client may take to take its whole reply. */
  readonly writeTimeoutMs: number;
  /** Interval of `waiting` lines while a request waits for a job. */
  readonly keepAliveMs: number;
  /** Longest pause after a failed accept (a full fd table must not become a busy loop). */
  readonly acceptRetryMs: number;
}

/**
 * Limits for a daemon with `fdLimit` open files: the two caps together stay under a quarter of
 * it, so the sockets can never use up the descriptors jobs and logs need.
 */
export function defaultServerLimits(fdLimit: number): ServerLimits {
  const share = Number.isFinite(fdLimit) ? Math.max(4, Math.floor(fdLimit / 8)) : Infinity;
  return {
    owner: {
      maxConnections: Math.min(256, share),
      maxRequestBytes: MAX_REQUEST_BYTES,
      reserve: 2,
      maxPendingBytes: Infinity,
    },
    readOnly: {
      maxConnections: Math.min(64, share),
      maxRequestBytes: MAX_READ_ONLY_REQUEST_BYTES,
      reserve: 1,
      maxPendingBytes: READ_ONLY_PENDING_BYTES,
    },
    readTimeoutMs: 5_000,
    writeTimeoutMs: 10_000,
    keepAliveMs: 5_000,
    acceptRetryMs: 100,
  };
}

/** Bytes written per write call (the rest of a reply waits for the client to read). */
const CHUNK = 64 * 1024;

interface Socket {
  readonly path: string;
  readonly privileged: boolean;
  readonly policy: SocketPolicy;
  readonly listener: Deno.Listener;
  /** The inode we bound, so close() never removes a successor's socket. */
  readonly ino: number | null;
  readonly reserve: FdReserve;
  active: number;
  /** Refusals whose one-line reason is being written. */
  refusing: number;
  /** Bytes of replies being written (see SocketPolicy.maxPendingBytes). */
  pending: number;
}

/**
 * What the read-only socket's clients may keep waiting at once: 64 clients that ask for a
 * 1.5 MB `list --json` (5,000 jobs) and never read held 100 MB and more of the daemon's memory.
 */
export const READ_ONLY_PENDING_BYTES = 8 * 1024 * 1024;

/** Read-only connections taken at most before the event loop gets a turn. */
const READ_ONLY_BURST = 8;

/** At most this many refused connections are told why at a time; the rest are just closed. */
const REFUSALS_WITH_REASON = 16;

export class ControlServer {
  readonly #sockets: Socket[] = [];
  #closed = false;
  /** Read, write and `waiting` deadlines of every connection: one timer, only while needed. */
  readonly #deadlines = new Deadlines();

  constructor(
    readonly socketPath: string,
    private readonly handler: RequestHandler,
    readonly limits: ServerLimits = defaultServerLimits(getNofile()?.soft ?? 1024),
  ) {}

  /** Bind both sockets with their final modes (replacing stale files) and start accepting. */
  listen(): void {
    this.#closed = false;
    this.#sockets.length = 0;
    for (
      const [path, mode, privileged] of [
        [this.socketPath, 0o600, true],
        [readOnlySocketPath(this.socketPath), 0o666, false],
      ] as const
    ) {
      const listener = bindWithMode(path, mode);
      let ino: number | null = null;
      try {
        ino = Deno.statSync(path).ino;
      } catch { /* gone already */ }
      const policy = privileged ? this.limits.owner : this.limits.readOnly;
      const reserve = new FdReserve(policy.reserve);
      const socket: Socket = {
        path,
        privileged,
        policy,
        listener,
        ino,
        reserve,
        active: 0,
        refusing: 0,
        pending: 0,
      };
      this.#sockets.push(socket);
      this.#accept(socket);
    }
  }

  /** Connections being served now, per socket (owner, read-only). */
  get connections(): { owner: number; readOnly: number } {
    const of = (p: boolean) => this.#sockets.find((s) => s.privileged === p)?.active ?? 0;
    return { owner: of(true), readOnly: of(false) };
  }

  /** Bytes of replies waiting for their clients, by socket. */
  get pendingBytes(): { owner: number; readOnly: number } {
    const of = (p: boolean) => this.#sockets.find((s) => s.privileged === p)?.pending ?? 0;
    return { owner: of(true), readOnly: of(false) };
  }

  async #accept(socket: Socket): Promise<void> {
    let burst = 0;
    for (;;) {
      if (!socket.privileged && ++burst >= READ_ONLY_BURST) {
        // An accept that finds a connection waiting resolves without a turn of the event loop:
        // a read-only flood would hold the loop (and the owner's requests) for as long as it lasts.
        burst = 0;
        await new Promise((r) => setTimeout(r, 0));
        if (this.#closed) return;
      }
      let conn: Deno.Conn | null;
      let reserved = false;
      try {
        conn = await socket.listener.accept();
      } catch (e) {
        if (this.#closed) return;
        conn = outOfDescriptors(e) ? await this.#acceptWithReserve(socket) : null;
        if (this.#closed) return close(conn);
        if (conn === null) {
          // A failed accept leaves the connection queued and the socket readable: wait for a
          // reserved descriptor to come back (a connection closing), or a pause; never spin.
          this.#refill();
          await socket.reserve.returned(this.limits.acceptRetryMs);
          if (this.#closed) return;
          continue;
        }
        reserved = true;
      }
      if (reserved && !socket.privileged) {
        // Anyone may fill the read-only socket: it gets one line, and its descriptor back at once.
        refuse(conn, OUT_OF_FDS).finally(() => this.#refill());
        continue;
      }
      if (socket.active >= socket.policy.maxConnections) {
        // Say why, unless a flood is on: then close at once, holding nothing.
        if (socket.refusing < REFUSALS_WITH_REASON) {
          socket.refusing++;
          refuse(conn, busy(socket)).finally(() => socket.refusing--);
        } else {
          close(conn);
        }
        this.#refill();
        continue;
      }
      socket.active++;
      this.#serve(conn, socket).finally(() => {
        socket.active--;
        this.#refill();
      });
    }
  }

  /** Take the connection that found the fd table full into a reserved descriptor, if one is held. */
  async #acceptWithReserve(socket: Socket): Promise<Deno.Conn | null> {
    if (!socket.reserve.release()) return null;
    try {
      return await socket.listener.accept();
    } catch {
      this.#refill(); // taken meanwhile by something else: into the reserve again if it can
      return null;
    }
  }

  /** A descriptor may be free again: put back what the reserves gave out. */
  #refill(): void {
    if (this.#closed) return;
    for (const s of this.#sockets) {
      if (s.reserve.held < s.reserve.size) s.reserve.refill();
    }
  }

  async #serve(conn: Deno.Conn, socket: Socket): Promise<void> {
    let closed = false;
    const closeConn = () => {
      if (closed) return;
      closed = true;
      close(conn);
    };
    const reader = new ConnReader(conn, 16 * 1024);
    const readDeadline = this.#deadlines.add(this.limits.readTimeoutMs, closeConn);
    let reply: Reply;
    try {
      const line = await reader.readLine(socket.policy.maxRequestBytes);
      this.#deadlines.cancel(readDeadline);
      if (line === null || closed) return closeConn();
      const request = decodeRequest(line);
      reply = await this.#answer(conn, request, socket.privileged, () => closed);
    } catch (e) {
      this.#deadlines.cancel(readDeadline);
      if (closed) return;
      reply = errorReply(
        e instanceof ProtocolError
          ? e.message
          : `internal error: ${e instanceof Error ? e.message : e}`,
      );
    }
    if (closed) return;
    const writeDeadline = this.#deadlines.add(this.limits.writeTimeoutMs, closeConn);
    let { header, body } = encodeReply(reply);
    // (One reply alone always goes, however big: the bound is on what waits beside it.)
    if (socket.pending > 0 && socket.pending + body.length > socket.policy.maxPendingBytes) {
      ({ header, body } = encodeReply(errorReply(
        "upkeep is busy: too much output waiting for the clients of its read-only socket; " +
          "try again",
      )));
    }
    socket.pending += body.length;
    try {
      if (header.length + body.length <= CHUNK) {
        // A short reply in one write: the client wakes up once for it, not once per part.
        const whole = new Uint8Array(header.length + body.length);
        whole.set(header);
        whole.set(body, header.length);
        await writeAll(conn, whole);
      } else {
        await writeAll(conn, header);
        for (let off = 0; off < body.length && !closed; off += CHUNK) {
          await writeAll(conn, body.subarray(off, off + CHUNK));
        }
      }
    } catch { /* the client went away, or its deadline passed */ }
    socket.pending -= body.length;
    this.#deadlines.cancel(writeDeadline);
    closeConn();
    if (reply.ok) reply.after?.();
  }

  /** Run the handler; while it waits, tell the client every keepAliveMs that we are alive. */
  async #answer(
    conn: Deno.Conn,
    request: Request,
    privileged: boolean,
    isClosed: () => boolean,
  ): Promise<Reply> {
    let writing = false;
    let keepAlive = 0;
    const waiting = () => {
      keepAlive = this.#deadlines.add(this.limits.keepAliveMs, waiting);
      if (writing || isClosed()) return;
      writing = true;
      writeAll(conn, WAITING_LINE).catch(() => {}).finally(() => writing = false);
    };
    keepAlive = this.#deadlines.add(this.limits.keepAliveMs, waiting);
    try {
      return await this.handler(request, privileged);
    } finally {
      this.#deadlines.cancel(keepAlive);
      // A waiting line still being written must finish before the reply starts.
      while (writing) await new Promise((r) => setTimeout(r, 1));
    }
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#sockets) {
      s.reserve.close();
      try {
        s.listener.close();
      } catch { /* closed */ }
      try {
        if (s.ino !== null && Deno.lstatSync(s.path).ino === s.ino) Deno.removeSync(s.path);
      } catch { /* gone */ }
    }
  }
}

const enc = new TextEncoder();

/** Say why and close: a connection refused costs one small write and no wait. */
function refuse(conn: Deno.Conn, why: string): Promise<void> {
  const { header } = encodeReply(errorReply(why));
  return conn.write(header).then(() => {}, () => {}).finally(() => close(conn));
}

function busy(socket: Socket): string {
  const which = socket.privileged ? "control" : "read-only";
  return `upkeep is busy: too many connections on its ${which} socket ` +
    `(limit ${socket.policy.maxConnections}); try again`;
}

const OUT_OF_FDS = "upkeep is out of file descriptors (Too many open files): its jobs hold them " +
  "all; try again, or ask its owner to stop jobs or raise its open-files limit";

function close(conn: Deno.Conn | null): void {
  try {
    conn?.close();
  } catch { /* closed */ }
}

/** Longest path a Unix socket address holds (sun_path, with its NUL). */
const SUN_PATH_MAX = 107;

/**
 * Listen on `path` with `mode` from the first moment: bind in a fresh 0700 directory beside it,
 * chmod, rename over `path`. Paths too long for that detour bind in place under a umask.
 */
function bindWithMode(path: string, mode: number): Deno.Listener {
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  const tmp = Deno.makeTempDirSync({ dir, prefix: ".u" });
  try {
    const tmpPath = `${tmp}/s`;
    if (enc.encode(tmpPath).length > SUN_PATH_MAX) return bindUnderUmask(path, mode);
    const listener = Deno.listen({ transport: "unix", path: tmpPath });
    Deno.chmodSync(tmpPath, mode);
    Deno.renameSync(tmpPath, path);
    return listener;
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
}

function bindUnderUmask(path: string, mode: number): Deno.Listener {
  try {
    Deno.removeSync(path);
  } catch { /* not there */ }
  const old = Deno.umask(0o777 & ~mode);
  try {
    return Deno.listen({ transport: "unix", path });
  } finally {
    Deno.umask(old);
  }
}
