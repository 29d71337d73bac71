/**
 * RealProcessPort.findUnrecorded on real processes: a job process an earlier daemon spawned but
 * never recorded is told by its session, start time, environment and user.
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { RealProcessPort } from "../../../lib/supervisor/process_port.ts";
import { processStart } from "../../../lib/process/proc.ts";

/** A session leader (`setsid`) sleeping with `env`; returns its pid once it runs sleep. */
async function leader(env: Record<string, string>, asNobody = false): Promise<number> {
  const nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
  const p = new Deno.Command("setsid", {
    args: ["-f", ...(asNobody ? nobody : []), "sh", "-c", "echo $$; exec sleep 1000 >/dev/null"],
    env,
    clearEnv: true,
    stdout: "piped",
  }).spawn();
  const out = new TextDecoder().decode((await p.output()).stdout);
  return Number(out.trim());
}

Deno.test({
  name: "findUnrecorded: the one session leader of this job, instance and socket, else null",
  sanitizeResources: false,
  fn: async () => {
    const sock = `/tmp/upkeep-test-${Deno.pid}.sock`;
    const since = processStart(Deno.pid)!;
    const env = (job: string, instance = "") => ({
      PATH: "/usr/bin:/bin",
      UPSTART_JOB: job,
      UPSTART_INSTANCE: instance,
      UPKEEP_SOCKET: sock,
    });
    const pids = [
      await leader(env("web")),
      await leader(env("twice")),
      await leader(env("twice")),
      await leader({ ...env("other"), UPKEEP_SOCKET: "/elsewhere.sock" }),
      await leader(env("w", "1")),
      await leader(env("forged"), true), // a local user's process dressed as a root job's
    ];
    try {
      const port = new RealProcessPort(
        () => ({ users: [], groups: [] }) as never,
        0o022,
        () => {},
        null,
      );
      const q = (job: string, instance = "", more: Partial<{ since: number }> = {}) => ({
        job,
        instance,
        socket: sock,
        since,
        anyUser: false,
        ...more,
      });
      const found = port.findUnrecorded(
        [
          q("web"),
          null,
          q("twice"), // two candidates: not told apart, none taken
          q("other"), // another daemon's socket
          q("w", "1"),
          q("w", "2"),
          q("web", "", { since: processStart(pids[0]!)! + 1 }), // started before it
        ],
        new Set(),
      );
      assertEquals(found.map((f) => f?.pid ?? null), [
        pids[0],
        null,
        null,
        null,
        pids[4],
        null,
        null,
      ]);
      assertEquals(found[0]?.start, processStart(pids[0]!));
      // A root job's process is never another user's; a job with setuid may be.
      assertEquals(port.findUnrecorded([q("forged")], new Set()), [null]);
      assertEquals(
        port.findUnrecorded([{ ...q("forged"), anyUser: true }], new Set()).map((f) => f?.pid),
        [pids[5]],
      );
      // One a record holds already is not a candidate.
      assertEquals(port.findUnrecorded([q("web")], new Set([pids[0]!])), [null]);
    } finally {
      for (const pid of pids) Deno.kill(pid, "SIGKILL");
    }
  },
});
