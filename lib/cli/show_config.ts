/**
 * `upkeep show-config [-e|--enumerate] PATH...`: Upstart's `initctl show-config` output for job
 * files and directories (recursive `*.conf`, each with its `.override`), without a daemon.
 * Files that do not parse are reported on stderr as `FILE:LINE: message` and make the exit
 * status 1; the others are still shown. Usage errors exit 2.
 */

import { parseArgs } from "node:util";
import type { JobClass } from "../job/model.ts";
import { collectJobFiles, loadJobFile } from "../job/load.ts";
import { formatShowConfig } from "../job/show_config_format.ts";
import { formatDiagnostic } from "../job/model.ts";

const PROGRAM = "upkeep show-config";

const HELP = `Usage: upkeep show-config [OPTION]... PATH...

Print the emits, start on and stop on of job files as 'initctl show-config' does
(PATH may be a .conf file or a directory, searched recursively for *.conf).

Options:
  -e, --enumerate   one line per event of each condition, with its job and environment
  -h, --help        show this help`;

function usage(message: string): number {
  console.error(`${PROGRAM}: ${message} (try '${PROGRAM} --help')`);
  return 2;
}

export function showConfigMain(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        enumerate: { type: "boolean", short: "e" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return Promise.resolve(usage(message.replace(/\. To specify.*$/s, "")));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(HELP);
    return Promise.resolve(0);
  }
  if (positionals.length === 0) return Promise.resolve(usage("missing PATH"));
  const { confs, diagnostics } = collectJobFiles(positionals);
  let ok = diagnostics.length === 0;
  for (const d of diagnostics) console.error(`${d.file}: ${d.message}`);
  const jobs: JobClass[] = [];
  for (const ref of confs) {
    const r = loadJobFile(ref.path, ref.name);
    for (const d of r.diagnostics) {
      console.error(
        d.severity === "warning" ? `${formatDiagnostic(d)} (ignored)` : formatDiagnostic(d),
      );
    }
    if (r.job) jobs.push(r.job);
    else ok = false;
  }
  const out = formatShowConfig(jobs, values.enumerate ?? false);
  if (out) console.log(out.slice(0, -1));
  return Promise.resolve(ok ? 0 : 1);
}
