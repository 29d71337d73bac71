/**
 * `upkeep check-config [--json] [--upstart] [-i|--ignore-events LIST] [-w|--warn] [-q] PATH...`:
 * init-checkconf's job for files and directories (recursive `*.conf`, each with its `.override`),
 * plus initctl check-config's warnings about events nobody emits and jobs that do not exist.
 *
 * Output: each problem as `FILE:LINE: message` (warnings `FILE:LINE: warning: message`) on
 * stderr; `FILE: syntax ok` on stdout for each valid file (not with `-q`). `--json` prints only a
 * JSON array on stdout (docs/job-json.md). Exit 0 when every file is valid, 1 otherwise (warnings
 * never change it), 2 on a usage error.
 */

import { parseArgs } from "node:util";
import { defaultJob, type Diagnostic, type JobClass } from "../job/model.ts";
import { parseJob, type ParseResult } from "../job/parse.ts";
import {
  collectJobFiles,
  defaultStrictModes,
  fileExists,
  overridePath,
  readJobText,
} from "../job/load.ts";
import { jobToJson } from "../job/json.ts";
import { checkConditions, formatConditionWarning } from "../job/check_events.ts";

const PROGRAM = "upkeep check-config";

const HELP = `Usage: upkeep check-config [OPTION]... PATH...

Check job files (PATH may be a .conf file or a directory, searched recursively for *.conf).

Options:
      --json                  print a JSON array, one object per file (see docs/job-json.md)
      --upstart               also warn about upkeep extension stanzas (not valid for Upstart)
  -i, --ignore-events LIST    comma-separated events not to warn about
  -w, --warn                  warn about every unknown event or job, even under 'or'
  -q, --quiet                 do not print 'FILE: syntax ok' lines
  -h, --help                  show this help

Exit status: 0 when every file is valid, 1 otherwise, 2 on a usage error.`;

/** The check of one file. */
export interface FileReport {
  readonly file: string;
  readonly valid: boolean;
  readonly diagnostics: Diagnostic[];
  readonly job: JobClass | null;
  readonly lines: Readonly<Record<string, number>>;
}

function usage(message: string): number {
  console.error(`${PROGRAM}: ${message} (try '${PROGRAM} --help')`);
  return 2;
}

const hasErrors = (ds: readonly Diagnostic[]) => ds.some((d) => d.severity === "error");

/**
 * Check every file named by `paths`. Reads files; the checking itself is the pure parser's. As
 * root, a file the daemon would refuse (StrictModes: not root's, or writable by others) is
 * reported with the daemon's words.
 */
export function checkPaths(
  paths: readonly string[],
  opts: { upstartOnly?: boolean; ignored?: readonly string[]; warnAll?: boolean } = {},
): FileReport[] {
  const reports: FileReport[] = [];
  const { confs, orphans, diagnostics } = collectJobFiles(paths);
  for (const d of diagnostics) {
    reports.push({ file: d.file, valid: false, diagnostics: [d], job: null, lines: {} });
  }
  const upstartOnly = opts.upstartOnly ?? false;
  const strict = defaultStrictModes();
  for (const ref of confs) {
    const oPath0 = overridePath(ref.path);
    const unsafe = [ref.path, ...(fileExists(oPath0) ? [oPath0] : [])]
      .map((file) => ({ file, message: strict?.fileProblem(file, ref.root) ?? null }))
      .filter((u) => u.message !== null);
    if (unsafe.length) {
      const ds = unsafe.map((u) => ({
        file: u.file,
        line: 0,
        message: u.message!,
        severity: "error" as const,
      }));
      reports.push({ file: ref.path, valid: false, diagnostics: ds, job: null, lines: {} });
      continue;
    }
    const readErrors: Diagnostic[] = [];
    const text = readJobText(ref.path, readErrors);
    if (text === null) {
      reports.push({ file: ref.path, valid: false, diagnostics: readErrors, job: null, lines: {} });
      continue;
    }
    const conf = parseJob(text, { name: ref.name, file: ref.path, upstartOnly });
    let result: ParseResult = conf;
    const oPath = overridePath(ref.path);
    let overrideReport: FileReport | null = null;
    if (ref.path.endsWith(".conf") && fileExists(oPath)) {
      const oErrors: Diagnostic[] = [];
      const oText = readJobText(oPath, oErrors);
      const base = conf.job ?? defaultJob(ref.name, ref.path);
      const o = oText === null ? null : parseJob(oText, {
        name: ref.name,
        file: oPath,
        upstartOnly,
        base,
      });
      const ds = [...oErrors, ...(o?.diagnostics ?? [])];
      overrideReport = {
        file: oPath,
        valid: !hasErrors(ds),
        diagnostics: ds,
        job: null,
        lines: {},
      };
      if (o?.job && conf.job) {
        result = {
          job: o.job,
          diagnostics: conf.diagnostics,
          lines: { ...conf.lines, ...o.lines },
        };
      }
    }
    reports.push({
      file: ref.path,
      valid: !hasErrors(conf.diagnostics),
      diagnostics: [...conf.diagnostics],
      job: result.job,
      lines: result.lines ?? {},
    });
    if (overrideReport) reports.push(overrideReport);
  }
  for (const o of orphans) {
    reports.push({
      file: o,
      valid: true,
      diagnostics: [{
        file: o,
        line: 0,
        message: "Override file ignored: no .conf file beside it",
        severity: "warning",
      }],
      job: null,
      lines: {},
    });
  }
  addConditionWarnings(reports, opts);
  return reports;
}

/** initctl check-config's warnings, attached to the file (and stanza line) they concern. */
function addConditionWarnings(
  reports: FileReport[],
  opts: { ignored?: readonly string[]; warnAll?: boolean },
): void {
  const withJobs = reports.filter((r) => r.job !== null);
  const byName = new Map(withJobs.map((r) => [r.job!.name, r]));
  const warnings = checkConditions(withJobs.map((r) => r.job!), opts);
  for (const w of warnings) {
    const r = byName.get(w.job);
    if (!r) continue;
    r.diagnostics.push({
      file: r.file,
      line: r.lines[w.condition] ?? 0,
      message: formatConditionWarning(w),
      severity: "warning",
    });
  }
}

function position(d: Diagnostic): string {
  return d.line > 0 ? `${d.file}:${d.line}` : d.file;
}

/** The JSON array `--json` prints. */
export function reportsToJson(reports: readonly FileReport[]): unknown[] {
  const items = (ds: readonly Diagnostic[], sev: Diagnostic["severity"]) =>
    ds.filter((d) => d.severity === sev).map((d) => ({ line: d.line, message: d.message }));
  return reports.map((r) => ({
    file: r.file,
    valid: r.valid,
    errors: items(r.diagnostics, "error"),
    warnings: items(r.diagnostics, "warning"),
    job: r.valid && r.job ? jobToJson(r.job) : null,
  }));
}

export function checkConfigMain(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        json: { type: "boolean" },
        upstart: { type: "boolean" },
        "ignore-events": { type: "string", short: "i", multiple: true },
        warn: { type: "boolean", short: "w" },
        quiet: { type: "boolean", short: "q" },
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
  const ignored = (values["ignore-events"] ?? []).flatMap((l) => l.split(",")).filter(Boolean);
  const reports = checkPaths(positionals, {
    upstartOnly: values.upstart ?? false,
    ignored,
    warnAll: values.warn ?? false,
  });
  if (values.json) {
    console.log(JSON.stringify(reportsToJson(reports), null, 2));
  } else {
    for (const r of reports) {
      for (const d of r.diagnostics) {
        const warn = d.severity === "warning" ? "warning: " : "";
        console.error(`${position(d)}: ${warn}${d.message}`);
      }
      if (r.valid && !values.quiet) console.log(`${r.file}: syntax ok`);
    }
  }
  return Promise.resolve(reports.every((r) => r.valid) ? 0 : 1);
}
