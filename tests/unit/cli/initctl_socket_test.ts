/** defaultSocket(): a user's plain initctl reaches their own daemon, else the system daemon. */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { defaultSocket, SYSTEM_SOCKET } from "../../../lib/cli/default_socket.ts";

Deno.test("defaultSocket() prefers the user's own daemon, then the system one", () => {
  const own = "/run/user/1000/upkeep/upkeep.sock";
  const only = (...present: string[]) => (p: string) => present.includes(p);
  assertEquals(defaultSocket(own, only(own, SYSTEM_SOCKET)), own);
  assertEquals(defaultSocket(own, only(SYSTEM_SOCKET)), SYSTEM_SOCKET);
  assertEquals(defaultSocket(own, only()), own);
  assertEquals(defaultSocket(SYSTEM_SOCKET, only()), SYSTEM_SOCKET);
});
