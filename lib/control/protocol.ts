/**
 * The control protocol between `upkeep initctl` and the daemon, shared by both sides. Pure.
 *
 * A connection carries one request and one reply. The request is one line of JSON
 * (newline-terminated, at most the socket's request limit). The reply is a stream: zero or more
 * `{"v":2,"waiting":true}` lines (sent every few seconds while the daemon waits for a job, so a
 * client can tell a slow job from a stalled daemon), then one header line, then for a success
 * exactly `bytes` bytes of UTF-8 output (any size: written in chunks, never one big line).
 *
 * Version history:
 *   1: { v, cmd, args, options } -> one line { v, ok: true, out, data? } | { v, ok: false, error,
 *      code }, both directions at most 1 MiB.
 *   2: same request; reply = waiting lines, then { v, ok: true, bytes } + `bytes` bytes of output,
 *      or { v, ok: false, error, code }. No size limit on replies. A v1 peer gets a clear error.
 * The daemon formats the text (Upstart's exact words), so clients stay small and fast.
 */

export const PROTOCOL_VERSION = 2;
/** Largest request the owner's socket reads; the read-only socket takes far less. */
export const MAX_REQUEST_BYTES = 1 << 20;
/** Largest request the read-only socket reads (its commands carry a job name and KEY=VALUEs). */
export const MAX_READ_ONLY_REQUEST_BYTES = 16 * 1024;

export interface Request {
  readonly v: number;
  /** initctl command: start, stop, restart, reload, status, list, emit, ... */
  readonly cmd: string;
  /** Positional arguments after the command (job name, KEY=VALUE pairs, event name ...). */
  readonly args: readonly string[];
  readonly options: RequestOptions;
}

export interface RequestOptions {
  readonly noWait?: boolean;
  readonly json?: boolean;
  readonly global?: boolean;
  readonly retain?: boolean;
  readonly enumerate?: boolean;
  readonly job?: string;
  readonly instance?: string;
  /** The caller is a job process acting on itself (UPSTART_JOB / UPSTART_INSTANCE). */
  readonly self?: { readonly job: string; readonly instance: string };
  readonly ignoreEvents?: readonly string[];
  readonly warn?: boolean;
}

export type Reply =
  | {
    readonly v: number;
    readonly ok: true;
    readonly out: string;
    /** Daemon side only, never sent: run once the reply has been written (re-exec). */
    readonly after?: () => void;
  }
  | { readonly v: number; readonly ok: false; readonly error: string; readonly code: number };

/** The header line of a reply (the output follows it for a success). */
export type ReplyHeader =
  | { readonly v: number; readonly ok: true; readonly bytes: number }
  | { readonly v: number; readonly ok: false; readonly error: string; readonly code: number }
  | { readonly v: number; readonly waiting: true };

export class ProtocolError extends Error {}

/**
 * Commands anyone who can reach the read-only socket may run: what the daemon shows of its jobs.
 * The job environment (list-env, get-env: where credentials live), check-config, log-priority and
 * every change need the owner's socket.
 */
export const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set([
  "status",
  "list",
  "show-config",
  "version",
  "usage",
  "ping",
]);

const enc = new TextEncoder();

export function encodeRequest(request: Request): Uint8Array {
  return enc.encode(JSON.stringify(request) + "\n");
}

/** A reply as bytes: its header line, then its output. */
export function encodeReply(reply: Reply): { header: Uint8Array; body: Uint8Array } {
  if (!reply.ok) {
    const { v, ok, error, code } = reply;
    return { header: enc.encode(JSON.stringify({ v, ok, error, code }) + "\n"), body: EMPTY };
  }
  const body = enc.encode(reply.out);
  const header = enc.encode(JSON.stringify({ v: reply.v, ok: true, bytes: body.length }) + "\n");
  return { header, body };
}

const EMPTY = new Uint8Array(0);

/** The line sent while the daemon waits for a job (initctl start/stop/restart/emit). */
export const WAITING_LINE: Uint8Array = enc.encode(
  JSON.stringify({ v: PROTOCOL_VERSION, waiting: true }) + "\n",
);

/** Decode a request line; throws ProtocolError with a reason for anything malformed. */
export function decodeRequest(line: string): Request {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ProtocolError("malformed request: not JSON");
  }
  if (typeof value !== "object" || value === null) throw new ProtocolError("malformed request");
  const r = value as Record<string, unknown>;
  if (r.v !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      `unsupported protocol version ${JSON.stringify(r.v)} (this upkeep speaks ` +
        `${PROTOCOL_VERSION}: use the initctl of the running daemon's version)`,
    );
  }
  if (typeof r.cmd !== "string") throw new ProtocolError("malformed request: no command");
  if (!Array.isArray(r.args) || !r.args.every((a) => typeof a === "string")) {
    throw new ProtocolError("malformed request: args must be strings");
  }
  const options = typeof r.options === "object" && r.options !== null
    ? checkOptions(r.options)
    : {};
  return { v: PROTOCOL_VERSION, cmd: r.cmd, args: r.args as string[], options };
}

const FLAG_OPTIONS = ["noWait", "json", "global", "retain", "enumerate", "warn"] as const;
const TEXT_OPTIONS = ["job", "instance"] as const;

/** The request's options, each of its type (unknown ones dropped); ProtocolError otherwise. */
function checkOptions(raw: object): RequestOptions {
  const o = raw as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const bad = (name: string) => new ProtocolError(`malformed request: option ${name}`);
  for (const k of FLAG_OPTIONS) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== "boolean") throw bad(k);
    out[k] = o[k];
  }
  for (const k of TEXT_OPTIONS) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== "string") throw bad(k);
    out[k] = o[k];
  }
  if (o.self !== undefined) {
    const self = o.self as Record<string, unknown> | null;
    if (
      typeof self !== "object" || self === null || typeof self.job !== "string" ||
      typeof self.instance !== "string"
    ) throw bad("self");
    out.self = { job: self.job, instance: self.instance };
  }
  if (o.ignoreEvents !== undefined) {
    const list = o.ignoreEvents;
    if (!Array.isArray(list) || !list.every((e) => typeof e === "string")) {
      throw bad("ignoreEvents");
    }
    out.ignoreEvents = list;
  }
  return out as RequestOptions;
}

/** Decode a reply header line (a v1 daemon's error line decodes as an error header). */
export function decodeReplyHeader(line: string): ReplyHeader {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ProtocolError("malformed reply from upkeep");
  }
  if (typeof value !== "object" || value === null) {
    throw new ProtocolError("malformed reply from upkeep");
  }
  const r = value as Record<string, unknown>;
  if (r.waiting === true) return { v: Number(r.v), waiting: true };
  if (r.ok === false) {
    return {
      v: Number(r.v),
      ok: false,
      error: String(r.error ?? "unknown error"),
      code: typeof r.code === "number" ? r.code : 1,
    };
  }
  if (
    r.ok === true && typeof r.bytes === "number" && Number.isSafeInteger(r.bytes) && r.bytes >= 0
  ) {
    return { v: Number(r.v), ok: true, bytes: r.bytes };
  }
  throw new ProtocolError("malformed reply from upkeep");
}

export function okReply(out: string): Reply {
  return { v: PROTOCOL_VERSION, ok: true, out };
}

export function errorReply(error: string, code = 1): Reply {
  return { v: PROTOCOL_VERSION, ok: false, error, code };
}

/** The read-only socket beside the control socket (mode 0666; only READ_ONLY_COMMANDS). */
export function readOnlySocketPath(socket: string): string {
  return `${socket}.ro`;
}
