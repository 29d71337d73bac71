/** The text of `upkeep --version`: version, git revision, Deno version. */

import { BUILD_REVISION, VERSION } from "../version.ts";

/**
 * The git revision: baked in by scripts/compile.ts, else asked of git in the checkout that holds
 * main.ts (only from source: a compiled binary always has BUILD_REVISION).
 */
async function revision(): Promise<string> {
  if (BUILD_REVISION) return BUILD_REVISION;
  try {
    // compiled-safe: only reached from source (compiled binaries have BUILD_REVISION baked in).
    const main = new URL(Deno.mainModule);
    if (main.protocol !== "file:") return "unknown";
    const dir = decodeURIComponent(main.pathname.slice(0, main.pathname.lastIndexOf("/") + 1));
    const out = await new Deno.Command("git", {
      args: ["-C", dir, "rev-parse", "--short=12", "HEAD"],
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
