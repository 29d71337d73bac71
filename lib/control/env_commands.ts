/**
 * The job environment commands (list-env, get-env, set-env, unset-env, reset-env) as Upstart runs
 * them: on the daemon's job environment, or, when initctl sends the calling job (inside a job,
 * without -g), on that instance's own environment. A global set-env or unset-env reaches the
 * running instances too (for the processes they start later). Runs inside the daemon's loop.
 */

import type { Request } from "./protocol.ts";
import { CommandError } from "./command_error.ts";
import { classEnv, type Env, initialJobEnv } from "../supervisor/environment.ts";
import type { Instance, JobClassEntry, Supervisor } from "../supervisor/supervisor.ts";

/** Run an env command; returns its output. `findClass` throws Upstart's unknown-job error. */
export function envCommand(
  sup: Supervisor,
  req: Request,
  findClass: (name: string) => JobClassEntry,
): string {
  const inst = envInstance(req, findClass);
  switch (req.cmd) {
    case "list-env":
      // Sorted as whole KEY=VALUE strings, as initctl does.
      return Object.entries(inst?.env ?? sup.jobEnv).map(([k, v]) => `${k}=${v}`)
        .sort((a, b) => a < b ? -1 : a > b ? 1 : 0).join("\n");
    case "get-env": {
      const [name] = req.args;
      if (!name) throw new CommandError("Variable may not be empty string");
      const value = (inst?.env ?? sup.jobEnv)[name];
      if (value === undefined) throw new CommandError(`No such variable: ${name}`);
      return value;
    }
    case "set-env": {
      // Without `=`, the variable is set to the empty string.
      const tables = envTables(sup, inst);
      for (const arg of req.args) {
        const i = arg.indexOf("=");
        const key = i < 0 ? arg : arg.slice(0, i);
        const value = i < 0 ? "" : arg.slice(i + 1);
        for (const env of tables) if (!(req.options.retain && key in env)) env[key] = value;
      }
      return "";
    }
    case "unset-env": {
      // A variable that is not set is no error (Upstart).
      const tables = envTables(sup, inst);
      for (const name of req.args) for (const env of tables) delete env[name];
      return "";
    }
    case "reset-env": {
      const fresh = inst ? classEnv(inst.job, sup.jobEnv) : initialJobEnv(Deno.env.toObject());
      const env = inst ? inst.env : sup.jobEnv;
      for (const k of Object.keys(env)) delete env[k];
      Object.assign(env, fresh);
      return "";
    }
    default:
      throw new CommandError(`invalid command: ${req.cmd}`);
  }
}

/**
 * The instance whose own environment an env command acts on: the calling job's (initctl sends it
 * unless -g), or null for the daemon's job environment.
 */
function envInstance(
  req: Request,
  findClass: (name: string) => JobClassEntry,
): Instance | null {
  const job = req.options.job;
  if (job === undefined || req.options.global) return null;
  const cls = findClass(job);
  const instance = req.options.instance ?? "";
  const inst = cls.instances.get(instance);
  if (!inst) throw new CommandError(`Unknown instance: ${instance} of job ${job}`);
  return inst;
}

/** Tables a change goes to: the instance's, or the daemon's and every instance's. */
function envTables(sup: Supervisor, inst: Instance | null): Env[] {
  if (inst) return [inst.env];
  const tables = [sup.jobEnv];
  for (const cls of sup.classes.values()) {
    for (const i of cls.instances.values()) tables.push(i.env);
  }
  return tables;
}
