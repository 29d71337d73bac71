/**
 * Reading job files from disk: every `**\/*.conf` under the conf dirs, each with its `JOB.override`
 * applied as Upstart does. The only file in lib/job that touches the file system; synchronous
 * (a few ms for hundreds of files) and it never throws: unreadable dirs and files become
 * diagnostics.
 *
 * StrictModes (./strict_modes.ts): for a root daemon (and root's check-config), a job file or
 * override that someone other than root could change is refused with one error, never read.
 *
 * Override rules (Upstart 1.13): the override is parsed after the .conf into the same job; in an
 * override with a parse error, the stanzas before the first error apply and the failing one's
 * value is dropped, as Upstart leaves it (the errors are reported as warnings, since the job still
 * loads); an override without a .conf is ignored.
 */

import type { Diagnostic, JobClass } from "./model.ts";
import { parseJob, type ParseResult } from "./parse.ts";
import { StrictModes } from "./strict_modes.ts";

/** The StrictModes checks a load applies by default: root's, when we are root. */
export function defaultStrictModes(): StrictModes | null {
  return Deno.uid() === 0 ? new StrictModes([0]) : null;
}

export interface LoadResult {
  readonly jobs: ReadonlyMap<string, JobClass>;
  readonly diagnostics: readonly Diagnostic[];
  /** Every conf/override path read (for change detection). */
  readonly files: readonly string[];
}

function errorText(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "No such file or directory";
  if (e instanceof Deno.errors.PermissionDenied) return "Permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "Is a directory";
  return e instanceof Error ? e.message : String(e);
}

/**
 * The largest job file read (Upstart has no limit; real job files are a few KiB). A bigger one is
 * refused with a diagnostic rather than parsed on the daemon's loop.
 */
export const MAX_JOB_FILE_BYTES = 1024 * 1024;

function readText(path: string, diagnostics: Diagnostic[]): string | null {
  try {
    // Checked first: reading a FIFO would block for good, a huge file would stall the loop.
    const st = Deno.statSync(path);
    if (!st.isFile) {
      diagnostics.push({
        file: path,
        line: 0,
        message: "not a regular file: skipped",
        severity: "warning",
      });
      return null;
    }
    // /proc and /sys files say they are regular and empty, and may be endless (pagemap) or
    // block for ever (kmsg): a job file never lives there.
    if (PSEUDO_FS.test(Deno.realPathSync(path))) {
      diagnostics.push({
        file: path,
        line: 0,
        message: "in /proc or /sys, not a job file: skipped",
        severity: "warning",
      });
      return null;
    }
    const bytes = st.size > MAX_JOB_FILE_BYTES
      ? null
      : readAtMost(path, st.size, MAX_JOB_FILE_BYTES);
    if (bytes === null) {
      diagnostics.push({
        file: path,
        line: 0,
        message: `file too large (${Math.max(st.size, MAX_JOB_FILE_BYTES + 1)} bytes; ` +
          "job files may be at most 1 MiB)",
        severity: "error",
      });
      return null;
    }
    // A byte-order mark is kept, as Upstart reads it: part of the first stanza's name.
    return new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
  } catch (e) {
    diagnostics.push({ file: path, line: 0, message: errorText(e), severity: "error" });
    return null;
  }
}

const PSEUDO_FS = /^\/(proc|sys)(\/|$)/;

/**
 * The file's bytes, or null when it has more than `max` (it may have grown since its stat said
 * `size`): never more than max + 1 bytes read or held.
 */
function readAtMost(path: string, size: number, max: number): Uint8Array | null {
  const file = Deno.openSync(path);
  try {
    let buf = new Uint8Array(Math.min(max + 1, size + 1));
    let len = 0;
    for (;;) {
      if (len === buf.length) {
        if (len > max) return null;
        const bigger = new Uint8Array(Math.min(max + 1, len * 2));
        bigger.set(buf);
        buf = bigger;
      }
      const n = file.readSync(buf.subarray(len));
      if (n === null) return buf.subarray(0, len);
      len += n;
    }
  } finally {
    file.close();
  }
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** `path/to/job.conf` -> `path/to/job.override`. */
export function overridePath(confPath: string): string {
  return confPath.replace(/\.conf$/, "") + ".override";
}

/** Parse a .conf text and its override text (if any), applying Upstart's override rules. */
function withOverride(
  conf: ParseResult,
  overrideText: string | null,
  override: string,
  name: string,
  env: Readonly<Record<string, string>>,
): ParseResult {
  if (overrideText === null || !conf.job) return conf;
  const o = parseJob(overrideText, { name, file: override, env, base: conf.job });
  if (!o.job) {
    // As Upstart: what the override set before its first error stays, the rest is not read.
    const ignored = o.diagnostics.map((d) => ({ ...d, severity: "warning" as const }));
    return { ...conf, job: o.partial ?? conf.job, diagnostics: [...conf.diagnostics, ...ignored] };
  }
  return {
    job: o.job,
    diagnostics: [...conf.diagnostics, ...o.diagnostics],
    lines: o.lines,
    stanzas: [...(conf.stanzas ?? []), ...(o.stanzas ?? [])],
  };
}

/** One file (and its .override beside it); job name = basename without .conf unless `name` given. */
export function loadJobFile(
  path: string,
  name?: string,
  env: Readonly<Record<string, string>> = {},
): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const text = readText(path, diagnostics);
  if (text === null) return { job: null, diagnostics };
  const base = path.slice(path.lastIndexOf("/") + 1);
  const jobName = name ?? base.replace(/\.conf$/, "");
  const conf = parseJob(text, { name: jobName, file: path, env });
  const override = overridePath(path);
  const overrideText = path.endsWith(".conf") && exists(override)
    ? readText(override, diagnostics)
    : null;
  const r = withOverride(conf, overrideText, override, jobName, env);
  return { ...r, diagnostics: [...diagnostics, ...r.diagnostics] };
}

/**
 * Relative paths of every `*.conf` under `dir` (sorted), as Upstart finds them: a symlink to a file
 * counts (a dangling one too, so that reading it reports it), a symlink to a directory is not
 * searched.
 */
export function findConfFiles(
  dir: string,
  diagnostics: Diagnostic[],
  ext = ".conf",
): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (abs: string, rel: string) => {
    let real: string;
    let entries: Deno.DirEntry[];
    try {
      real = Deno.realPathSync(abs);
      if (seen.has(real)) return;
      seen.add(real);
      entries = [...Deno.readDirSync(abs)];
    } catch (e) {
      diagnostics.push({ file: abs, line: 0, message: errorText(e), severity: "error" });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const childAbs = `${abs}/${e.name}`, childRel = rel ? `${rel}/${e.name}` : e.name;
      const named = e.name.endsWith(ext) && e.name.length > ext.length;
      const isDir = e.isDirectory;
      let isFile = e.isFile;
      if (e.isSymlink) {
        try {
          const st = Deno.statSync(childAbs);
          // As Upstart: a link to a job file is a job file; a link to a directory is not searched.
          if (st.isDirectory) continue;
          isFile = st.isFile;
        } catch {
          // A dangling link named as a job file: reading it says why (as Upstart, "No such file
          // or directory"); any other dangling link is nothing.
          if (named) out.push(childRel);
          continue;
        }
      }
      // As Upstart: directories libnih ignores are not searched; a file is a job file when its
      // name is more than the extension (`.conf` alone is not).
      if (isDir) {
        if (!ignoredDir(e.name)) walk(childAbs, childRel);
      } else if (!named) continue;
      else if (isFile) out.push(childRel);
      else {
        diagnostics.push({
          file: childAbs,
          line: 0,
          message: "not a regular file: skipped",
          severity: "warning",
        });
      }
    }
  };
  walk(dir.replace(/\/+$/, "") || "/", "");
  return out;
}

/**
 * Directories Upstart does not search for job files (libnih's nih_file_ignore): hidden (`.*`),
 * backups (`*~`, `*.bak`, `*.BAK`, `#*#`), editor swap files (`*.swp`, `*.swo`, `*.swn`, `.#*`),
 * version control (`*,v`, `RCS`, `CVS`, `CVS.adm`, `SCCS`, `.bzr`, `.hg`, `.git`, `.svn` ...) and
 * packaging leftovers (`*.dpkg-*`, `*.rpmsave`, `*.rpmorig`, `*.rpmnew`, `*;` + 8 hex digits).
 */
export function ignoredDir(name: string): boolean {
  if (name.startsWith(".")) return true;
  if (/(~|\.bak|\.BAK|\.swp|\.swo|\.swn|,v)$/.test(name) || /^#.*#$/.test(name)) return true;
  if (["RCS", "CVS", "CVS.adm", "SCCS", "BitKeeper", "{arch}", "_darcs"].includes(name)) {
    return true;
  }
  const dot = name.lastIndexOf(".");
  const ext = dot === -1 ? "" : name.slice(dot);
  if (ext.startsWith(".dpkg-") || [".rpmsave", ".rpmorig", ".rpmnew"].includes(ext)) return true;
  return /;[0-9a-fA-F]{8}$/.test(name);
}

const NOTHING_UNSETTLED: ReadonlySet<string> = new Set();

/**
 * Loads every **\/*.conf under each dir (first dir holding a name wins), applies JOB.override files
 * as Upstart does (an override with a parse error applies up to its first error; override
 * without .conf ignored). Unreadable dirs or files become diagnostics, never throws. `files` =
 * every conf/override path read (for change detection). `unsettled`: conf and override paths
 * someone is still writing (the conf-dir watcher knows them): their jobs keep what `cache` holds,
 * and are left out when it holds nothing.
 */
export function loadConfDirs(
  dirs: readonly string[],
  env: Readonly<Record<string, string>> = {},
  cache?: LoadCache,
  strict: StrictModes | null = defaultStrictModes(),
  unsettled: ReadonlySet<string> = NOTHING_UNSETTLED,
): LoadResult {
  const jobs = new Map<string, JobClass>();
  const diagnostics: Diagnostic[] = [];
  const files: string[] = [];
  const seen = new Set<string>();
  // Checked on every load, cached or not: a directory above may have changed, not the file.
  const refused = (path: string, root: string) => {
    const problem = strict?.fileProblem(path, root) ?? null;
    if (problem) diagnostics.push({ file: path, line: 0, message: problem, severity: "error" });
    return problem !== null;
  };
  for (const dir of dirs) {
    const root = dir.replace(/\/+$/, "") || "/";
    // The overrides there are, from one listing (a stat of each missing one would cost a thrown
    // error per job).
    const overrides = new Set(findConfFiles(root, [], ".override").map((r) => `${root}/${r}`));
    for (const rel of findConfFiles(root, diagnostics)) {
      const name = rel.slice(0, -".conf".length);
      if (jobs.has(name)) continue;
      const path = `${root}/${rel}`;
      const override = overridePath(path);
      const overrideStamp = overrides.has(override) ? fileStamp(override) : NO_FILE;
      // An unsafe override refuses the whole job: it may be what keeps the job `manual`.
      if (refused(path, root) || (overrideStamp !== NO_FILE && refused(override, root))) continue;
      const key = `${name}\0${path}`;
      if (unsettled.has(path) || unsettled.has(override)) {
        // Being written: what was loaded before stays; a new job waits until its file is whole.
        const hit = cache?.get(key);
        if (!hit) continue;
        seen.add(key);
        files.push(...hit.loaded.files);
        diagnostics.push(...hit.loaded.diagnostics);
        if (hit.loaded.job) jobs.set(name, hit.loaded.job);
        continue;
      }
      seen.add(key);
      const stamp = cache ? fileStamp(path) + overrideStamp : "";
      const hit = cache?.get(key);
      const loaded = hit && hit.stamp === stamp
        ? hit.loaded
        : loadOne(path, override, overrides.has(override), name, env);
      if (cache) cache.set(key, { stamp, loaded });
      files.push(...loaded.files);
      diagnostics.push(...loaded.diagnostics);
      if (loaded.job) jobs.set(name, loaded.job);
    }
  }
  if (cache) { for (const key of [...cache.keys()]) if (!seen.has(key)) cache.delete(key); }
  return { jobs, diagnostics, files };
}

/** One job: the .conf (and its .override), read and parsed. */
interface LoadedJob {
  readonly job: JobClass | null;
  readonly diagnostics: readonly Diagnostic[];
  readonly files: readonly string[];
}

/**
 * Parsed job files by name and path, with the stamp (inode, size, times) of the .conf and the
 * .override they were parsed from: a reload parses only what changed.
 */
export type LoadCache = Map<string, { readonly stamp: string; readonly loaded: LoadedJob }>;

const NO_FILE = "-;";

function fileStamp(path: string): string {
  try {
    const st = Deno.statSync(path);
    return `${st.ino}:${st.size}:${st.mtime?.getTime()}:${st.ctime?.getTime()};`;
  } catch {
    return NO_FILE;
  }
}

/**
 * `hasOverride`: the .override beside it is in the directory's listing (a stat of each missing
 * one would cost a thrown error per job).
 */
function loadOne(
  path: string,
  override: string,
  hasOverride: boolean,
  name: string,
  env: Readonly<Record<string, string>>,
): LoadedJob {
  const diagnostics: Diagnostic[] = [];
  const files: string[] = [];
  const text = readText(path, diagnostics);
  if (text === null) return { job: null, diagnostics, files };
  files.push(path);
  const conf = parseJob(text, { name, file: path, env });
  let overrideText: string | null = null;
  if (hasOverride && exists(override)) {
    overrideText = readText(override, diagnostics);
    if (overrideText !== null) files.push(override);
  }
  const r = withOverride(conf, overrideText, override, name, env);
  diagnostics.push(...r.diagnostics);
  return { job: r.job, diagnostics, files };
}

/** A job file named on a command line. */
export interface JobFileRef {
  readonly path: string;
  readonly name: string;
  /** The directory named on the command line it was found in (null: named itself). */
  readonly root: string | null;
}

/**
 * Expand command-line PATHs: a directory gives its `**\/*.conf` (names relative to it), a file
 * gives itself (an explicit `X.override` stands for `X.conf`). `orphans` are override files with
 * no .conf beside them (Upstart ignores those). Missing paths become diagnostics.
 */
export function collectJobFiles(paths: readonly string[]): {
  confs: JobFileRef[];
  orphans: string[];
  diagnostics: Diagnostic[];
} {
  const confs: JobFileRef[] = [];
  const orphans: string[] = [];
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  const addConf = (path: string, name: string, root: string | null = null) => {
    if (!seen.has(path)) {
      seen.add(path);
      confs.push({ path, name, root });
    }
  };
  for (const p of paths) {
    let st: Deno.FileInfo;
    try {
      st = Deno.statSync(p);
    } catch (e) {
      diagnostics.push({ file: p, line: 0, message: errorText(e), severity: "error" });
      continue;
    }
    if (st.isDirectory) {
      const root = p.replace(/\/+$/, "") || "/";
      for (const rel of findConfFiles(root, diagnostics)) {
        addConf(`${root}/${rel}`, rel.slice(0, -".conf".length), root);
      }
      for (const rel of findConfFiles(root, diagnostics, ".override")) {
        if (!exists(`${root}/${rel.slice(0, -".override".length)}.conf`)) {
          orphans.push(`${root}/${rel}`);
        }
      }
      continue;
    }
    const base = p.slice(p.lastIndexOf("/") + 1);
    if (p.endsWith(".override")) {
      const conf = p.slice(0, -".override".length) + ".conf";
      if (exists(conf)) addConf(conf, base.slice(0, -".override".length));
      else orphans.push(p);
      continue;
    }
    addConf(p, base.replace(/\.conf$/, ""));
  }
  return { confs, orphans, diagnostics };
}

/** Read a file as text; null (and a diagnostic) when it cannot be read. */
export function readJobText(path: string, diagnostics: Diagnostic[]): string | null {
  return readText(path, diagnostics);
}

/** True when `path` is an existing regular file. */
export function fileExists(path: string): boolean {
  return exists(path);
}
