/**
 * The conformance suite: every scenario in ./scenarios runs against the real Upstart 1.13.2 (the
 * oracle package at ../shared/oracle) and against upkeep; the normalised transcripts must be equal,
 * or, for a deliberate difference, upkeep's must be the one the scenario states (and Upstart's must
 * differ from it). Scenarios run a few at a time (CONFORMANCE_JOBS, default 3), each target in its
 * own temp dir with its own ORACLE_STATE. CONFORMANCE_ONLY=text runs the scenarios whose name
 * contains text.
 *
 * Without the oracle: under `deno task conformance` (UPKEEP_CONFORMANCE=required) one failing test
 * says so; under `deno task test` one line says conformance was not run.
 */

import { describeDifference } from "./normalize.ts";
import { type RunOutcome, runScenario } from "./runner.ts";
import type { Scenario } from "./scenario.ts";
import { oracleDir, type Target, UpkeepTarget, UpstartTarget } from "./targets.ts";
import { SCENARIOS } from "./scenarios/mod.ts";

const oracle = oracleDir();
const required = Deno.env.get("UPKEEP_CONFORMANCE") === "required";

if (oracle === null) {
  const message =
    "conformance not run: no Upstart 1.13.2 oracle at ../shared/oracle (or UPSTART_ORACLE)";
  if (required) {
    Deno.test("conformance: the Upstart 1.13.2 oracle is present", () => {
      throw new Error(message);
    });
  } else {
    console.log(message);
  }
} else {
  register(oracle);
}

function register(oracle: string): void {
  const only = Deno.env.get("CONFORMANCE_ONLY");
  const scenarios = SCENARIOS.filter((s) => !only || s.name.includes(only));
  const names = new Set<string>();
  for (const s of scenarios) {
    if (names.has(s.name)) throw new Error(`two scenarios are named ${s.name}`);
    names.add(s.name);
  }
  const concurrency = Math.max(1, Number(Deno.env.get("CONFORMANCE_JOBS") ?? 3));
  let results: Map<string, Promise<[RunOutcome, RunOutcome, string]>> | null = null;
  let root: string | null = null;
  const start = () => {
    if (results) return results;
    root = Deno.makeTempDirSync({ prefix: "upkeep-conformance-" });
    Deno.chmodSync(root, 0o755);
    runRoot = root;
    results = pool(scenarios, concurrency, (s, i) => runBoth(s, `${root}/s${i}`, oracle));
    return results;
  };
  scenarios.forEach((scenario, i) => {
    Deno.test({
      name: `conformance: ${scenario.name}`,
      sanitizeOps: false,
      sanitizeResources: false,
      async fn() {
        const [upstart, upkeep, diag] = await start().get(scenario.name)!;
        if (i === scenarios.length - 1 && root) {
          await Promise.allSettled(start().values());
          // CONFORMANCE_KEEP=1 keeps the run's dirs (job files, logs, markers) to look at.
          if (Deno.env.get("CONFORMANCE_KEEP")) console.log(`conformance dirs kept in ${root}`);
          else Deno.removeSync(root, { recursive: true });
        }
        check(scenario, upstart, upkeep, diag);
      },
    });
  });
}

function check(s: Scenario, upstart: RunOutcome, upkeep: RunOutcome, diag: string): void {
  // CONFORMANCE_SHOW=1 prints Upstart's transcript of every scenario.
  if (Deno.env.get("CONFORMANCE_SHOW")) console.log(`--- ${s.name}\n${upstart.transcript}`);
  const fail = (what: string) => {
    throw new Error(`${s.name}: ${what}\n\n--- daemon messages ---\n${diag}`);
  };
  // In a deliberate difference Upstart may well not get through the steps at all.
  if (upstart.error && !s.deliberate) {
    fail(`Upstart: ${upstart.error}\n--- Upstart transcript ---\n${upstart.transcript}`);
  }
  if (upkeep.error) {
    fail(`upkeep: ${upkeep.error}\n--- upkeep transcript ---\n${upkeep.transcript}`);
  }
  if (s.deliberate) {
    const expected = s.deliberate.upkeep.trim();
    if (upkeep.transcript.trim() !== expected) {
      fail(
        `upkeep differs from the stated deliberate behaviour\n${
          describeDifference(expected, upkeep.transcript).replace("Upstart 1.13.2", "stated")
        }\n--- full upkeep transcript ---\n${upkeep.transcript}`,
      );
    }
    if (!upstart.error && upstart.transcript.trim() === expected) {
      fail("Upstart now behaves as stated for upkeep: this is no longer a difference");
    }
    return;
  }
  if (upstart.transcript !== upkeep.transcript) {
    fail(
      `${
        describeDifference(upstart.transcript, upkeep.transcript)
      }\n\n--- Upstart transcript ---\n${upstart.transcript}\n--- upkeep transcript ---\n${upkeep.transcript}`,
    );
  }
}

/** Targets whose daemon may still run; killed at once if the test process exits first. */
const live = new Set<Target>();
/** The run's temp dir, removed at the end (also when a filtered run ends early). */
let runRoot: string | null = null;
globalThis.addEventListener("unload", () => {
  for (const t of live) t.killNow();
  if (runRoot && !Deno.env.get("CONFORMANCE_KEEP")) {
    // Processes just killed may still be writing there: a few tries.
    for (let i = 0; i < 5; i++) {
      try {
        Deno.removeSync(runRoot, { recursive: true });
        break;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) break;
      }
    }
  }
});

async function runBoth(
  s: Scenario,
  dir: string,
  oracle: string,
): Promise<[RunOutcome, RunOutcome, string]> {
  const env = s.daemonEnv ?? {};
  const quiet = s.noStartupEvent ?? false;
  const upstart = new UpstartTarget(`${dir}-upstart`, env, oracle, quiet);
  const upkeep = new UpkeepTarget(`${dir}-upkeep`, env, s.bootEvents ?? false, quiet);
  live.add(upstart);
  live.add(upkeep);
  const outcome = (t: Target) =>
    runScenario(s, t).catch((e): RunOutcome => ({
      transcript: "",
      error: e instanceof Error ? e.stack ?? e.message : String(e),
    }));
  const [a, b] = await Promise.all([outcome(upstart), outcome(upkeep)]);
  live.delete(upstart);
  live.delete(upkeep);
  const diag = `[Upstart]\n${upstart.diagnostics()}\n[upkeep]\n${upkeep.diagnostics()}`;
  return [a, b, diag];
}

/** Run `fn` over `items`, `n` at a time; results by scenario name. */
function pool<R>(
  items: readonly Scenario[],
  n: number,
  fn: (s: Scenario, i: number) => Promise<R>,
): Map<string, Promise<R>> {
  const out = new Map<string, Promise<R>>();
  const resolvers = new Map<string, (r: R) => void>();
  for (const s of items) {
    out.set(s.name, new Promise<R>((resolve) => resolvers.set(s.name, resolve)));
  }
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      const s = items[i]!;
      resolvers.get(s.name)!(await fn(s, i));
    }
  };
  for (let k = 0; k < n; k++) worker();
  return out;
}
