/** The text of `upkeep --version`: version, git revision, Deno version. */

import { BUILD_REVISION, VERSION } from "../version.ts";

/** The git revision: baked in at compile time, else asked of git when running from a checkout. */
async function revision(): Promise<string> {
  if (BUILD_REVISION) return BUILD_REVISION;
  try {
    const dir = new URL("../..", import.meta.url);
    if (dir.protocol !== "file:") return "unknown";
    const out = await new Deno.Command("git", {
      args: ["-C", dir.pathname, "rev-parse", "--short", "HEAD"],
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : "unknown";
  } catch {
    return "unknown";
  }
}

export async function versionText(): Promise<string> {
  return `upkeep ${VERSION} (revision ${await revision()}, deno ${Deno.version.deno})`;
}
