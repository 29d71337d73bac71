/**
 * `upkeep run`: run a job file or a command once in the foreground, for cron, with a timeout,
 * an overlap lock, retries and a time-stamped log. Parses the command line, loads the job, builds
 * its environment and paths, and hands over to lib/run/runner.ts. Needs no daemon and no root.
 */

import { defaultJob, formatDiagnostic, type JobClass } from "../job/model.ts";
import { loadJobFile } from "../job/load.ts";
import { parseRunArgs, RUN_USAGE } from "../run/options.ts";
import { quietSignals } from "../process/quiet_signals.ts";
import { lockPathFor, logPathFor, NoHomeError, type PathContext } from "../run/paths.ts";
import { passwdHome } from "./paths.ts";
import { runJob } from "../run/runner.ts";
import { EXIT_USAGE } from "../run/summary.ts";
import { helperCommand } from "./shims.ts";
import { restoreOriginalNofile } from "../process/limits.ts";

/** Upstart's default PATH for job processes. */
export const JOB_PATH = "/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin";

/** Upstart's job environment: PATH, TERM (copied from us), the job's `env`, UPSTART_JOB/INSTANCE. */
export function jobFileEnv(job: JobClass, ours: Record<string, string>): Record<string, string> {
  return {
    PATH: JOB_PATH,
    ...(ours.TERM ? { TERM: ours.TERM } : {}),
    ...job.env,
    UPSTART_JOB: job.name,
    UPSTART_INSTANCE: "",
  };
}

function commandName(argv0: string): string {
  return argv0.slice(argv0.lastIndexOf("/") + 1) || "command";
}

export async function runMain(args: string[]): Promise<number> {
  // Our processes get the open-files limit we were given (Deno raised ours; we need few fds).
  restoreOriginalNofile();
  quietSignals(); // a job can run for hours, as root: SIGUSR1 must not open an inspector
  const opts = parseRunArgs(args);
  if ("error" in opts) {
    console.error(`upkeep run: ${opts.error} (try 'upkeep run --help')`);
    return EXIT_USAGE;
  }
  if (opts.help) {
    console.log(RUN_USAGE);
    return 0;
  }
  const ours = Deno.env.toObject();
  let job: JobClass;
  let env: Record<string, string>;
  if (opts.jobFile !== null) {
    const loaded = loadJobFile(opts.jobFile, opts.name ?? undefined);
    for (const d of loaded.diagnostics) console.error(formatDiagnostic(d));
    if (!loaded.job) return 1;
    job = loaded.job;
    if (!job.main && !job.preStart && !job.postStop) {
      console.error(`upkeep run: ${opts.jobFile}: job has no exec or script to run`);
      return 1;
    }
    env = jobFileEnv(job, ours);
  } else {
    // The COMMAND form runs like timeout(1) does: with our environment, in our directory.
    job = { ...defaultJob(opts.name ?? commandName(opts.command[0]!), ""), chdir: Deno.cwd() };
    env = { ...ours, UPSTART_JOB: job.name, UPSTART_INSTANCE: "" };
  }
  const uid = Deno.uid() ?? 0;
  const ctx: PathContext = {
    uid,
    env: { ...ours, HOME: ours.HOME ?? passwdHome(uid) ?? undefined },
  };
  let logPath: string | null, lockPath: string | null;
  try {
    logPath = opts.log ??
      (opts.noLog || job.console !== "log" ? null : logPathFor(job.name, ctx, opts.logDir));
    lockPath = opts.lockFile ?? (opts.noOverlap ? lockPathFor(job.name, ctx) : null);
  } catch (e) {
    if (!(e instanceof NoHomeError)) throw e;
    console.error(`upkeep run: ${e.message}`);
    return EXIT_USAGE;
  }
  const discard = job.console === "none" && opts.log === null;
  return await runJob({
    job,
    helper: helperCommand(),
    env,
    command: opts.jobFile === null ? opts.command : null,
    timeout: opts.timeout,
    killSignal: opts.killSignal ?? job.killSignal,
    killTimeout: opts.killTimeout ?? job.killTimeout,
    lockPath,
    waitLock: opts.waitLock,
    retries: opts.retries,
    retryDelay: opts.retryDelay,
    logPath,
    live: opts.tee || Deno.stdout.isTerminal() || logPath === null,
    discard,
    quietSuccess: opts.quietSuccess,
    json: opts.json,
  });
}
