/**
 * The control protocol between `upkeep initctl` and the daemon, shared by both sides. Pure.
 *
 * One request, one reply, each a single line of JSON (newline-terminated) of at most
 * MAX_MESSAGE_BYTES. Version history:
 *   1: { v, cmd, args, options } → { v, ok: true, out, data? } | { v, ok: false, error, code }
 * The daemon formats the text (Upstart's exact words), so clients stay small and fast.
 */

export const PROTOCOL_VERSION = 1;
export const MAX_MESSAGE_BYTES = 1 << 20;

export interface Request {
  readonly v: number;
  /** initctl command: start, stop, restart, reload, status, list, emit, … */
  readonly cmd: string;
  /** Positional arguments after the command (job name, KEY=VALUE pairs, event name …). */
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
  | { readonly v: number; readonly ok: true; readonly out: string; readonly data?: unknown }
  | { readonly v: number; readonly ok: false; readonly error: string; readonly code: number };

export class ProtocolError extends Error {}

/** Commands anyone who can reach the socket may run; every other command changes something. */
export const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set([
  "status",
  "list",
  "show-config",
  "check-config",
  "version",
  "usage",
  "list-env",
  "get-env",
  "log-priority-get",
  "ping",
]);

export function encodeMessage(message: Request | Reply): Uint8Array {
  const bytes = new TextEncoder().encode(JSON.stringify(message) + "\n");
  if (bytes.length > MAX_MESSAGE_BYTES) throw new ProtocolError("message too large");
  return bytes;
}

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
    throw new ProtocolError(`unsupported protocol version ${JSON.stringify(r.v)}`);
  }
  if (typeof r.cmd !== "string") throw new ProtocolError("malformed request: no command");
  if (!Array.isArray(r.args) || !r.args.every((a) => typeof a === "string")) {
    throw new ProtocolError("malformed request: args must be strings");
  }
  const options = typeof r.options === "object" && r.options !== null ? r.options : {};
  return { v: PROTOCOL_VERSION, cmd: r.cmd, args: r.args as string[], options };
}

export function decodeReply(line: string): Reply {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ProtocolError("malformed reply from upkeep");
  }
  const r = value as Record<string, unknown>;
  if (typeof r !== "object" || r === null || typeof r.ok !== "boolean") {
    throw new ProtocolError("malformed reply from upkeep");
  }
  return r as unknown as Reply;
}

export function okReply(out: string, data?: unknown): Reply {
  return data === undefined
    ? { v: PROTOCOL_VERSION, ok: true, out }
    : { v: PROTOCOL_VERSION, ok: true, out, data };
}

export function errorReply(error: string, code = 1): Reply {
  return { v: PROTOCOL_VERSION, ok: false, error, code };
}

/** The read-only socket beside the control socket (mode 0666; mutating commands refused). */
export function readOnlySocketPath(socket: string): string {
  return `${socket}.ro`;
}
