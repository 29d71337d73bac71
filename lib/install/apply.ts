/**
 * The install executor: makes each plan step true under a root directory, idempotently, and
 * records what it added in the manifest; uninstall removes exactly the manifest's entries (dirs
 * only when empty, so job files and logs stay). The only file in lib/install that touches disk,
 * besides the crontab and probe adapters at the bottom.
 */

import {
  decodeManifest,
  encodeManifest,
  type Manifest,
  type ManifestEntry,
  mergeEntries,
} from "./manifest.ts";
import type { InitProbe } from "./detect.ts";
import { dirname, rooted } from "./paths.ts";
import type { Step } from "./plan.ts";

/** The user's crontab (`crontab -l` / `crontab -`). */
export interface Crontab {
  read(): Promise<string>;
  write(text: string): Promise<void>;
}

export type Outcome = "added" | "updated" | "unchanged" | "skipped" | "removed" | "kept" | "gone";

export interface StepResult {
  readonly outcome: Outcome;
  /** What it was about, e.g. "unit /etc/systemd/system/upkeep.service". */
  readonly what: string;
  readonly detail?: string;
}

export interface ApplyResult {
  readonly results: readonly StepResult[];
  /** False when every step was already true: install changed nothing. */
  readonly changed: boolean;
  readonly manifest: Manifest;
}

/** Read the manifest under `root`, or null when there is none. */
export async function readManifest(root: string, path: string): Promise<Manifest | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(rooted(root, path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return decodeManifest(text);
}

function lstat(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch {
    return null;
  }
}

async function sameBytes(path: string, want: Uint8Array): Promise<boolean> {
  try {
    const have = await Deno.readFile(path);
    return have.length === want.length && have.every((b, i) => b === want[i]);
  } catch {
    return false;
  }
}

/** Create `path` and its missing parents under `root`; returns an entry per dir created. */
async function ensureDir(path: string, root: string): Promise<ManifestEntry[]> {
  const created: ManifestEntry[] = [];
  const parts = path.split("/").filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const p = "/" + parts.slice(0, i).join("/");
    if (lstat(rooted(root, p))) continue;
    await Deno.mkdir(rooted(root, p), { mode: 0o755 });
    created.push({ kind: "dir", path: p });
  }
  return created;
}

/** Apply one step; returns its result and the manifest entries for what it added. */
async function applyStep(
  step: Step,
  root: string,
  crontab: Crontab | undefined,
): Promise<{ result: StepResult; entries: ManifestEntry[] }> {
  const at = (p: string) => rooted(root, p);
  switch (step.kind) {
    case "dir": {
      const created = await ensureDir(step.path, root);
      const what = `${step.what} ${step.path}`;
      return {
        result: { outcome: created.length ? "added" : "unchanged", what },
        entries: created,
      };
    }
    case "file": {
      const path = at(step.path);
      const bytes = "text" in step.content
        ? new TextEncoder().encode(step.content.text)
        : await Deno.readFile(step.content.copyFrom);
      const info = lstat(path);
      const what = `${step.what} ${step.path}`;
      const modeOk = info?.isFile && ((info.mode ?? 0) & 0o777) === step.mode;
      if (info?.isFile && modeOk && await sameBytes(path, bytes)) {
        return { result: { outcome: "unchanged", what }, entries: [] };
      }
      const dirs = await ensureDir(dirname(step.path), root);
      // Write beside and rename: atomic, and works while the old binary is running (ETXTBSY).
      const tmp = `${path}.upkeep-new`;
      await Deno.writeFile(tmp, bytes, { mode: step.mode });
      await Deno.chmod(tmp, step.mode);
      await Deno.rename(tmp, path);
      const entry: ManifestEntry = { kind: "file", path: step.path };
      return { result: { outcome: info ? "updated" : "added", what }, entries: [...dirs, entry] };
    }
    case "symlink": {
      const path = at(step.path);
      const info = lstat(path);
      const what = `${step.what} ${step.path} -> ${step.target}`;
      if (!info) {
        await Deno.symlink(step.target, path);
        const entry: ManifestEntry = { kind: "symlink", path: step.path, target: step.target };
        return { result: { outcome: "added", what }, entries: [entry] };
      }
      if (info.isSymlink && Deno.readLinkSync(path) === step.target) {
        return { result: { outcome: "unchanged", what }, entries: [] };
      }
      const detail = "a file of another program is there: not replaced";
      return { result: { outcome: "skipped", what, detail }, entries: [] };
    }
    case "line": {
      const path = at(step.path);
      const what = `${step.what} in ${step.path}`;
      let text: string | null = null;
      try {
        text = await Deno.readTextFile(path);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      if (text !== null && text.split("\n").includes(step.line)) {
        return { result: { outcome: "unchanged", what }, entries: [] };
      }
      const dirs = text === null ? await ensureDir(dirname(step.path), root) : [];
      const before = text ?? "";
      const sep = before === "" || before.endsWith("\n") ? "" : "\n";
      await Deno.writeTextFile(path, `${before}${sep}${step.line}\n`);
      const entries: ManifestEntry[] = text === null
        ? [...dirs, { kind: "file", path: step.path }]
        : [];
      entries.push({ kind: "line", path: step.path, line: step.line });
      return { result: { outcome: "added", what, detail: step.line }, entries };
    }
    case "crontab": {
      if (!crontab) throw new Error("no crontab adapter given for a crontab step");
      const text = await crontab.read();
      const have = new Set(text.split("\n"));
      const missing = step.lines.filter((l) => !have.has(l));
      const what = `${step.what} in the user's crontab`;
      if (missing.length === 0) return { result: { outcome: "unchanged", what }, entries: [] };
      const sep = text === "" || text.endsWith("\n") ? "" : "\n";
      await crontab.write(`${text}${sep}${missing.join("\n")}\n`);
      return {
        result: { outcome: "added", what },
        entries: [{ kind: "crontab", lines: step.lines }],
      };
    }
  }
}

/**
 * Make every step true under `root`, then write the manifest (merged with an earlier one) when
 * anything changed. `base` is the manifest without entries.
 */
export async function applyInstall(
  steps: readonly Step[],
  root: string,
  base: Omit<Manifest, "entries">,
  crontab?: Crontab,
): Promise<ApplyResult> {
  const old = await readManifest(root, base.paths.manifest);
  const results: StepResult[] = [];
  const added: ManifestEntry[] = [];
  const save = async (): Promise<Manifest> => {
    const entries = mergeEntries(old?.entries ?? [], added);
    if (!old) entries.push({ kind: "file", path: base.paths.manifest });
    const manifest: Manifest = { ...base, entries };
    const path = rooted(root, base.paths.manifest);
    await ensureDir(dirname(base.paths.manifest), root).then((d) => entries.splice(0, 0, ...d));
    await Deno.writeTextFile(`${path}.upkeep-new`, encodeManifest(manifest));
    await Deno.rename(`${path}.upkeep-new`, path);
    return manifest;
  };
  try {
    for (const step of steps) {
      const { result, entries } = await applyStep(step, root, crontab);
      results.push(result);
      added.push(...entries);
    }
  } catch (e) {
    // Record what was added before the failure, so that uninstall can still remove it.
    if (added.length > 0) await save();
    throw e;
  }
  const changed = results.some((r) => r.outcome === "added" || r.outcome === "updated");
  const manifest = changed || !old ? await save() : old;
  return { results, changed, manifest };
}

/** Remove one manifest entry under `root`. */
async function removeEntry(
  e: ManifestEntry,
  root: string,
  crontab: Crontab | undefined,
): Promise<StepResult> {
  const at = (p: string) => rooted(root, p);
  switch (e.kind) {
    case "file": {
      const info = lstat(at(e.path));
      if (!info) return { outcome: "gone", what: e.path };
      await Deno.remove(at(e.path));
      return { outcome: "removed", what: e.path };
    }
    case "symlink": {
      const info = lstat(at(e.path));
      if (!info) return { outcome: "gone", what: e.path };
      if (!info.isSymlink || Deno.readLinkSync(at(e.path)) !== e.target) {
        return { outcome: "kept", what: e.path, detail: "no longer upkeep's link" };
      }
      await Deno.remove(at(e.path));
      return { outcome: "removed", what: `${e.path} -> ${e.target}` };
    }
    case "dir": {
      const info = lstat(at(e.path));
      if (!info) return { outcome: "gone", what: `${e.path}/` };
      for await (const _ of Deno.readDir(at(e.path))) {
        return { outcome: "kept", what: `${e.path}/`, detail: "not empty" };
      }
      await Deno.remove(at(e.path));
      return { outcome: "removed", what: `${e.path}/` };
    }
    case "line": {
      let text: string;
      try {
        text = await Deno.readTextFile(at(e.path));
      } catch {
        return { outcome: "gone", what: `line in ${e.path}` };
      }
      const lines = text.split("\n");
      const kept = lines.filter((l) => l !== e.line);
      if (kept.length === lines.length) return { outcome: "gone", what: `line in ${e.path}` };
      await Deno.writeTextFile(at(e.path), kept.join("\n"));
      return { outcome: "removed", what: `line in ${e.path}`, detail: e.line };
    }
    case "crontab": {
      if (!crontab) throw new Error("no crontab adapter given for a crontab entry");
      const text = await crontab.read();
      const drop = new Set(e.lines);
      const lines = text.split("\n");
      const kept = lines.filter((l) => !drop.has(l));
      if (kept.length === lines.length) return { outcome: "gone", what: "crontab lines" };
      await crontab.write(kept.join("\n"));
      return { outcome: "removed", what: "upkeep's lines in the user's crontab" };
    }
  }
}

/** Remove what the manifest lists, newest first; the manifest itself goes first. */
export async function applyUninstall(
  manifest: Manifest,
  root: string,
  crontab?: Crontab,
): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const mpath = manifest.paths.manifest;
  await Deno.remove(rooted(root, mpath)).catch(() => {});
  results.push({ outcome: "removed", what: `install manifest ${mpath}` });
  for (const e of [...manifest.entries].reverse()) {
    if (e.kind === "file" && e.path === mpath) continue;
    results.push(await removeEntry(e, root, crontab));
  }
  return results;
}

/** The real crontab of the current user, through the `crontab` command. */
export function commandCrontab(crontabCmd = "crontab"): Crontab {
  return {
    async read() {
      const out = await new Deno.Command(crontabCmd, {
        args: ["-l"],
        stdout: "piped",
        stderr: "piped",
      })
        .output();
      // `crontab -l` exits 1 with "no crontab for USER" when there is none.
      return out.success ? new TextDecoder().decode(out.stdout) : "";
    },
    async write(text: string) {
      const child = new Deno.Command(crontabCmd, {
        args: ["-"],
        stdin: "piped",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(text));
      await w.close();
      const out = await child.output();
      if (!out.success) {
        throw new Error(`crontab - failed: ${new TextDecoder().decode(out.stderr).trim()}`);
      }
    },
  };
}

/** An init probe reading the tree under `root`. */
export function fsProbe(root: string): InitProbe {
  const at = (p: string) => rooted(root, p);
  return {
    isDir: (p) => lstatFollow(at(p))?.isDirectory ?? false,
    exists: (p) => lstat(at(p)) !== null,
    readLink: (p) => {
      try {
        return Deno.readLinkSync(at(p));
      } catch {
        return null;
      }
    },
    readText: (p) => {
      try {
        return Deno.readTextFileSync(at(p));
      } catch {
        return null;
      }
    },
  };
}

function lstatFollow(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch {
    return null;
  }
}
