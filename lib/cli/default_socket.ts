/**
 * The control socket `initctl` talks to when neither --socket nor UPKEEP_SOCKET names one: this
 * user's own daemon when it runs, else the system daemon's. Loaded only then (initctl.ts).
 */

import { defaultPaths } from "./paths.ts";

/**
 * The socket to use without --socket or UPKEEP_SOCKET: the user's own daemon when there is one,
 * else the system daemon's (so every user's plain `initctl status` reaches /run/upkeep).
 */
export function defaultSocket(
  own = ownSocket(),
  exists: (path: string) => boolean = socketExists,
): string {
  if (own === SYSTEM_SOCKET || exists(own) || !exists(SYSTEM_SOCKET)) return own;
  return SYSTEM_SOCKET;
}

export const SYSTEM_SOCKET = "/run/upkeep/upkeep.sock";

/** The socket of this user's own daemon by default (the system one for a user without a home). */
function ownSocket(): string {
  try {
    return defaultPaths().socket;
  } catch {
    return SYSTEM_SOCKET;
  }
}

function socketExists(path: string): boolean {
  try {
    return Deno.statSync(path).isSocket === true;
  } catch {
    return false;
  }
}
