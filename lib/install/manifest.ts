/**
 * The install manifest: what `upkeep install` added, so `upkeep uninstall` removes exactly that and
 * `upkeep doctor` can tell how upkeep is registered for boot. Paths are as the booted system sees
 * them (without `--root`). Pure encode/decode: no Deno APIs.
 */

import type { InittabFlavour } from "./artifacts.ts";
import type { InitKind } from "./detect.ts";
import type { InstallPaths } from "./paths.ts";

/** One thing install added. */
export type ManifestEntry =
  | { readonly kind: "dir"; readonly path: string }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "symlink"; readonly path: string; readonly target: string }
  | { readonly kind: "line"; readonly path: string; readonly line: string }
  | { readonly kind: "crontab"; readonly lines: readonly string[] };

export interface Manifest {
  readonly version: 1;
  readonly init: InitKind;
  readonly flavour?: InittabFlavour;
  readonly user: boolean;
  readonly paths: InstallPaths;
  /** In the order they were added; uninstall walks them backwards. */
  readonly entries: readonly ManifestEntry[];
}

/** A key that identifies an entry, for merging manifests of repeated installs. */
export function entryKey(e: ManifestEntry): string {
  switch (e.kind) {
    case "crontab":
      return `crontab\0${e.lines.join("\n")}`;
    case "line":
      return `line\0${e.path}\0${e.line}`;
    default:
      return `${e.kind}\0${e.path}`;
  }
}

/** Entries of `old` followed by those of `added` that `old` lacks. */
export function mergeEntries(
  old: readonly ManifestEntry[],
  added: readonly ManifestEntry[],
): ManifestEntry[] {
  const seen = new Set(old.map(entryKey));
  return [...old, ...added.filter((e) => !seen.has(entryKey(e)))];
}

export function encodeManifest(m: Manifest): string {
  return JSON.stringify(m, null, 2) + "\n";
}

/** Decode a manifest; throws an Error with a sentence-case message when it is not one. */
export function decodeManifest(text: string): Manifest {
  const v = JSON.parse(text) as Partial<Manifest> | null;
  if (
    !v || v.version !== 1 || !Array.isArray(v.entries) || typeof v.init !== "string" || !v.paths
  ) {
    throw new Error("Not an upkeep install manifest (version 1)");
  }
  return v as Manifest;
}
