/**
 * `upkeep export --to systemd|kubernetes|nomad [--out DIR] [--crontab FILE]... [JOB|FILE|DIR]...`:
 * job files and `upkeep run` crontab lines become systemd units, Kubernetes manifests or Nomad
 * jobs (lib/export/). Notes about what a target cannot express go to stderr (or into `--json`);
 * nothing is written when there is an error, or a warning under `--strict`. Exit status: 0
 * exported, 1 errors (or warnings with --strict), 2 usage error.
 */

import { parseArgs } from "node:util";
import { formatDiagnostic } from "../job/model.ts";
import { loadUserDb } from "../process/users.ts";
import { exportAll, type ExportResult } from "../export/export.ts";
import { type ExportNote, type ExportTarget, TARGETS } from "../export/model.ts";
import { defaultPaths } from "./paths.ts";
import { type Inputs, readCrontab, readJobs } from "./export_inputs.ts";

const PROGRAM = "upkeep export";

export const EXPORT_USAGE = `Usage: upkeep export --to TARGET [OPTION]... [JOB|FILE|DIR]...

Turn job files, and the 'upkeep run' lines of crontabs, into the native definitions of another
engine. TARGET is systemd, kubernetes or nomad. With no JOB, FILE or DIR (and no --crontab), the
jobs of the daemon's conf dir are exported. Whatever a target cannot express is reported with
the line it came from (docs/export.md).

Options:
      --to TARGET             systemd, kubernetes or nomad
      --out DIR               write the files into DIR (default: print them on stdout)
      --crontab FILE          also export the 'upkeep run' lines of this crontab (repeatable;
                              user crontabs and /etc/cron.d-style files with a user field)
      --cron-user USER        the user of crontab lines that name none (a user's crontab)
      --conf-dir DIR          where JOB names are looked up (default: the daemon's)
      --image IMAGE           kubernetes: the container image of every job
      --image JOB=IMAGE       kubernetes: the image of one job (repeatable)
      --systemd-version N     systemd: the version to write for (default 254; below 254 there
                              is no RestartSteps=)
      --nomad-driver DRIVER   nomad: raw_exec (default) or exec
      --json                  print what was written and what was not mapped, as JSON
      --strict                treat every warning as an error
  -h, --help                  show this help

Exit status: 0 when exported, 1 on an error (a job file or crontab line that cannot be read or
exported; with --strict also any warning; nothing is written then), 2 on a usage error.`;

function usage(message: string): number {
  console.error(`${PROGRAM}: ${message} (try '${PROGRAM} --help')`);
  return 2;
}

function position(file: string, line: number): string {
  return line > 0 ? `${file}:${line}` : file;
}

function noteLine(n: ExportNote): string {
  const what = [n.job, n.stanza].filter(Boolean).join(": ");
  return `${position(n.file, n.line)}: ${n.severity}: ${what ? `${what}: ` : ""}${n.message}`;
}

/** Write every file into `dir` (created), each through a temporary file and a rename. */
function writeFiles(dir: string, result: ExportResult): string[] {
  Deno.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const f of result.files) {
    const path = `${dir.replace(/\/+$/, "") || "/"}/${f.path}`;
    const tmp = `${path}.tmp-${Deno.pid}`;
    Deno.writeTextFileSync(tmp, f.content);
    Deno.renameSync(tmp, path);
    written.push(path);
  }
  return written;
}

/** The files as one stream: a YAML stream for Kubernetes, headed sections otherwise. */
function printFiles(target: ExportTarget, result: ExportResult): void {
  const parts = result.files.map((f) =>
    target === "kubernetes"
      ? `---\n# ==> ${f.path} <==\n${f.content}`
      : `# ==> ${f.path} <==\n${f.content}`
  );
  if (parts.length) {
    Deno.stdout.writeSync(
      new TextEncoder().encode(parts.join(target === "kubernetes" ? "" : "\n")),
    );
  }
}

export function exportMain(args: string[]): Promise<number> {
  return Promise.resolve(run(args));
}

function run(args: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        to: { type: "string" },
        out: { type: "string" },
        crontab: { type: "string", multiple: true },
        "cron-user": { type: "string" },
        "conf-dir": { type: "string" },
        image: { type: "string", multiple: true },
        "systemd-version": { type: "string" },
        "nomad-driver": { type: "string" },
        json: { type: "boolean" },
        strict: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return usage(message.replace(/\. To specify.*$/s, ""));
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    console.log(EXPORT_USAGE);
    return 0;
  }
  if (v.to === undefined) return usage("missing --to TARGET");
  if (!(TARGETS as readonly string[]).includes(v.to)) {
    return usage(`unknown target '${v.to}' (systemd, kubernetes or nomad)`);
  }
  const target = v.to as ExportTarget;
  let systemdVersion = 254;
  if (v["systemd-version"] !== undefined) {
    if (!/^\d{1,4}$/.test(v["systemd-version"])) {
      return usage(`invalid --systemd-version '${v["systemd-version"]}'`);
    }
    systemdVersion = Number(v["systemd-version"]);
  }
  const driver = v["nomad-driver"] ?? "raw_exec";
  if (driver !== "raw_exec" && driver !== "exec") {
    return usage(`unknown --nomad-driver '${driver}'`);
  }
  let image: string | null = null;
  const images: Record<string, string> = {};
  for (const i of v.image ?? []) {
    const eq = i.indexOf("=");
    if (eq > 0) images[i.slice(0, eq)] = i.slice(eq + 1);
    else if (i) image = i;
    else return usage("empty --image");
  }
  const confDir = v["conf-dir"] ?? defaultPaths().confDirs[0]!;

  const inputs: Inputs = { jobs: [], cron: [], errors: [], notes: [] };
  const crontabs = v.crontab ?? [];
  if (positionals.length || !crontabs.length) {
    readJobs(positionals.length ? positionals : [confDir], confDir, inputs);
  }
  for (const c of crontabs) readCrontab(c, v["cron-user"] ?? null, inputs);

  const result = exportAll(
    { jobs: inputs.jobs, cron: inputs.cron },
    {
      target,
      systemdVersion,
      image,
      images,
      users: target === "kubernetes" ? loadUserDb() : null,
      nomadDriver: driver,
    },
  );
  const errors = [...inputs.errors, ...result.errors];
  const notes = [...inputs.notes, ...result.notes];
  const warnings = notes.filter((n) => n.severity === "warning");
  const failed = errors.length > 0 || (v.strict === true && warnings.length > 0);
  const written = !failed && v.out !== undefined ? writeFiles(v.out, result) : [];

  if (v.json) {
    const report = {
      target,
      out: v.out ?? null,
      ok: !failed,
      files: failed ? [] : result.files.map((f, i) => ({
        path: v.out !== undefined ? written[i] : f.path,
        job: f.job,
        source: f.source,
        ...(v.out === undefined ? { content: f.content } : {}),
      })),
      notMapped: notes,
      errors: errors.map((d) => ({ file: d.file, line: d.line, message: d.message })),
    };
    console.log(JSON.stringify(report, null, 2));
  } else {
    for (const d of errors) console.error(formatDiagnostic(d).replace(/:0: /, ": "));
    for (const n of warnings) console.error(noteLine(n));
    if (failed && !errors.length) {
      console.error(`${PROGRAM}: ${warnings.length} warning(s) with --strict: nothing written`);
    } else if (failed) {
      console.error(`${PROGRAM}: ${errors.length} error(s): nothing written`);
    } else if (v.out !== undefined) {
      for (const p of written) console.log(p);
    } else {
      printFiles(target, result);
    }
  }
  return failed ? 1 : 0;
}
