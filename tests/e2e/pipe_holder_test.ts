/**
 * End-to-end: the log pipe holder (lib/log/pipe_holder.ts). A job that writes its last words and
 * ends while no daemon runs (the daemon was killed with SIGKILL) still has them in its log once a
 * new daemon starts: the holder kept the pipe, and so what it held, alive meanwhile.
 */

import { ok as assert } from "node:assert/strict";
import { daemonTest } from "./daemon_helpers.ts";
import { pidAlive, waitFor } from "./helpers.ts";

function holderPids(state: string): number[] {
  try {
    return Deno.readTextFileSync(`${state}/logs/holder.pid`).split("\n")
      .map((l) => Number(l.split(" ")[0])).filter((p) => p > 0 && pidAlive(p));
  } catch {
    return [];
  }
}

daemonTest(
  "a job's last words, written while no daemon runs, reach its log",
  (dir) => ({
    a: "start on startup\nscript\n" +
      `  echo $$ > ${dir}/pid\n  echo first words\n` +
      `  while [ ! -e ${dir}/go ]; do sleep 0.02; done\n` +
      "  echo last words\nend script\n",
  }),
  async (d) => {
    await d.waitLog("a.log", /first words/);
    const job = Number(await waitFor(() => Deno.readTextFileSync(`${d.dir}/pid`).trim(), "pid"));
    const holders = await waitFor(
      () => holderPids(d.state).length ? holderPids(d.state) : null,
      "a holder",
    );
    d.process!.kill("SIGKILL");
    await d.process!.status;
    Deno.writeTextFileSync(`${d.dir}/go`, "");
    await waitFor(() => !pidAlive(job), "the job to end");
    assert(!/last words/.test(d.readLog("a.log")), "written to the log with no daemon running");
    await d.start();
    await d.waitLog("a.log", /first words\nlast words\n/);
    // The new daemon opened the pipes itself, then stopped the old holder.
    await waitFor(() => holders.every((p) => !pidAlive(p)), "the old holder to stop");
  },
);
