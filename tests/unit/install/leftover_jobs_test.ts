import assert from "node:assert/strict";
import { findLeftovers, parseStat, type ProcInfo } from "../../../lib/install/leftover_jobs.ts";

const SOCK = "/run/upkeep/upkeep.sock";

function proc(env: string[], state = "S", pgid = 100, comm = "sh"): ProcInfo {
  return { environ: env.join("\0") + "\0", stat: `123 (${comm}) ${state} 1 ${pgid} ${pgid} 0 -1` };
}

Deno.test("parseStat() reads state and pgid after a comm with spaces and parens", () => {
  assert.deepEqual(parseStat("42 (my (odd) prog) R 1 77 77 0"), { state: "R", pgid: 77 });
  assert.equal(parseStat("garbage"), null);
});

Deno.test("findLeftovers() finds live processes of this socket's jobs only", () => {
  const table: Record<number, ProcInfo | null> = {
    10: proc(["UPSTART_JOB=web", `UPKEEP_SOCKET=${SOCK}`], "S", 10),
    11: proc(["UPSTART_JOB=web", `UPKEEP_SOCKET=${SOCK}`], "S", 10),
    12: proc(["UPSTART_JOB=db", `UPKEEP_SOCKET=/other.sock`], "S", 12),
    13: proc(["UPSTART_JOB=gone", `UPKEEP_SOCKET=${SOCK}`], "Z", 13),
    14: proc(["PATH=/bin"]),
    15: null,
    16: proc([`UPKEEP_SOCKET=${SOCK}`, "UPSTART_JOB=self"], "R", 16),
    17: proc([`UPKEEP_SOCKET=${SOCK}x`], "S", 17),
  };
  const found = findLeftovers([10, 11, 12, 13, 14, 15, 16, 17], (p) => table[p] ?? null, SOCK, 16);
  assert.deepEqual(found, [
    { pid: 10, pgid: 10, job: "web" },
    { pid: 11, pgid: 10, job: "web" },
  ]);
});
