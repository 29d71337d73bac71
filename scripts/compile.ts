/**
 * `deno task compile`: build the single upkeep binary with `deno compile`.
 *
 * Builds `dist/upkeep-x86_64-linux` and `dist/upkeep-aarch64-linux`, and `dist/upkeep` for the
 * host. With `DENORT_BIN=/path/to/denort` (offline builds) only the host target is built, since one
 * denort serves one target. The git revision is baked in by compiling a temporary copy of the
 * source whose lib/version.ts is rewritten, so the checkout is never modified. When `deno compile`
 * cannot download the Deno runtime, it prints one clear message and exits 1. The daemon's V8 flags
 * are built in (a compiled binary reads no DENO_V8_FLAGS).
 *
 * Usage: deno run -A scripts/compile.ts [--out DIR] [--target TRIPLE]...
 */

import { bakeBuildInfo } from "../lib/install/build_info.ts";
import { LAZY_MODULES } from "../lib/cli/lazy.ts";
import { DAEMON_V8_FLAGS } from "../lib/process/self_exec.ts";

/** The targets built by default, and the file name of each. */
export const TARGETS: Readonly<Record<string, string>> = {
  "x86_64-unknown-linux-gnu": "upkeep-x86_64-linux",
  "aarch64-unknown-linux-gnu": "upkeep-aarch64-linux",
};

/** The host's target triple (Deno.build.target), e.g. `x86_64-unknown-linux-gnu`. */
export function hostTarget(): string {
  return Deno.build.target;
}

/** The output file name for a target triple. */
export function outputName(target: string): string {
  return TARGETS[target] ?? `upkeep-${target.split("-")[0]}-${target.split("-")[2] ?? "unknown"}`;
}

/** Which targets to build: explicit ones, else the host only with DENORT_BIN, else all of TARGETS. */
export function chooseTargets(explicit: string[], denortBin: string | undefined): string[] {
  if (explicit.length > 0) return explicit;
  if (denortBin) return [hostTarget()];
  return Object.keys(TARGETS);
}

/** The argv of one `deno compile`. */
export function compileArgv(
  deno: string,
  srcDir: string,
  target: string,
  output: string,
): string[] {
  return [
    deno,
    "compile",
    "-A",
    "--quiet",
    // `deno task test` type-checks the program; the build need not do it again per target.
    "--no-check",
    "--config",
    `${srcDir}/deno.json`,
    "--target",
    target,
    "--output",
    output,
    // The daemon's V8 flags, in the binary itself: a compiled binary reads no DENO_V8_FLAGS, so
    // this is the only way they take effect there (lib/process/self_exec.ts). Every command of the
    // binary runs with them; the short-lived ones are none the worse.
    `--v8-flags=${DAEMON_V8_FLAGS.join(",")}`,
    // Subcommands are imported through computed specifiers (see LAZY_MODULES): name each so that
    // the binary holds it.
    ...LAZY_MODULES.flatMap((m) => ["--include", `${srcDir}/lib/cli/${m}`]),
    `${srcDir}/main.ts`,
  ];
}

/**
 * Turn a failed `deno compile`'s stderr into the one message a user needs, or null when the
 * failure is not about getting the runtime (then the raw error is shown).
 */
export function explainFailure(
  stderr: string,
  target: string,
  denortBin: string | undefined,
): string | null {
  // deno colours its output; strip ANSI escapes before matching.
  // deno-lint-ignore no-control-regex
  const text = stderr.replace(/\x1b\[[0-9;]*m/g, "");
  const offline =
    "To build offline, point DENORT_BIN at a denort binary of the same Deno version " +
    `(${Deno.version.deno}): DENORT_BIN=/path/to/denort deno task compile`;
  const notFound = text.match(/Could not find denort at '([^']*)'/);
  if (notFound) {
    return `compile: DENORT_BIN points to '${notFound[1]}', which does not exist. ${offline}`;
  }
  const url = text.match(/https:\/\/dl\.deno\.land\/\S*denort[^\s)]*/);
  if (url || /error sending request|dns error|denort/i.test(text)) {
    // The innermost cause ("4: failed to lookup address information: …") says it best.
    const causes = text.split("Stack backtrace")[0]!.split("\n").map((l) => l.trim()).filter((l) =>
      /^\d+: /.test(l)
    );
    const cause = causes.at(-1) ?? "download failed";
    const where = url ? ` from ${url[0]}` : "";
    return `compile: could not download the Deno runtime (denort) for ${target}${where}: ` +
      `${cause.replace(/^\d+: /, "")}. ${denortBin ? "" : offline}`.trimEnd();
  }
  return null;
}

/** The git revision of the checkout at `dir` (`-dirty` when tracked files differ), or "unknown". */
async function gitRevision(dir: string): Promise<string> {
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", { args: ["-C", dir, ...args], stderr: "null" })
      .output().catch(() => null);
    return out ? { ok: out.success, text: new TextDecoder().decode(out.stdout).trim() } : null;
  };
  const rev = await git("rev-parse", "--short=12", "HEAD");
  if (!rev?.ok || !rev.text) return "unknown";
  const clean = await git("diff", "--quiet", "HEAD", "--");
  return clean?.ok ? rev.text : `${rev.text}-dirty`;
}

/** The files to copy: tracked and untracked-not-ignored files, or main.ts, deno.json and lib/. */
async function sourceFiles(dir: string): Promise<string[]> {
  const out = await new Deno.Command("git", {
    args: ["-C", dir, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    stderr: "null",
  }).output().catch(() => null);
  if (out?.success) {
    return new TextDecoder().decode(out.stdout).split("\0").filter((f) =>
      f === "main.ts" || f === "deno.json" || f === "deno.lock" || f.startsWith("lib/")
    );
  }
  const files = ["main.ts", "deno.json"];
  const walk = (rel: string) => {
    for (const e of Deno.readDirSync(`${dir}/${rel}`)) {
      if (e.isDirectory) walk(`${rel}/${e.name}`);
      else if (e.isFile) files.push(`${rel}/${e.name}`);
    }
  };
  walk("lib");
  return files;
}

/** Copy the program's source into a fresh temp dir with the build facts baked into version.ts. */
async function stageSource(repo: string, revision: string): Promise<string> {
  const tmp = await Deno.makeTempDir({ prefix: "upkeep-build-" });
  for (const rel of await sourceFiles(repo)) {
    const from = `${repo}/${rel}`;
    try {
      if (!Deno.statSync(from).isFile) continue;
    } catch {
      continue; // deleted in the working tree
    }
    await Deno.mkdir(`${tmp}/${rel.slice(0, rel.lastIndexOf("/") + 1)}`, { recursive: true });
    await Deno.copyFile(from, `${tmp}/${rel}`);
  }
  const versionTs = `${tmp}/lib/version.ts`;
  await Deno.writeTextFile(versionTs, bakeBuildInfo(await Deno.readTextFile(versionTs), revision));
  return tmp;
}

function parseArgs(args: string[]): { out: string; targets: string[] } | string {
  let out = "dist";
  const targets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = args[i + 1];
    if ((a === "--out" || a === "--target") && value !== undefined) {
      if (a === "--out") out = value;
      else targets.push(value);
      i++;
    } else {
      return `unknown argument '${a}' (usage: scripts/compile.ts [--out DIR] [--target TRIPLE]...)`;
    }
  }
  return { out, targets };
}

async function main(args: string[]): Promise<number> {
  const parsed = parseArgs(args);
  if (typeof parsed === "string") {
    console.error(`compile: ${parsed}`);
    return 2;
  }
  const repo = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
  const outDir = parsed.out.startsWith("/") ? parsed.out : `${repo}/${parsed.out}`;
  const denortBin = Deno.env.get("DENORT_BIN") || undefined;
  const targets = chooseTargets(parsed.targets, denortBin);
  const revision = await gitRevision(repo);
  await Deno.mkdir(outDir, { recursive: true });
  const src = await stageSource(repo, revision);
  try {
    for (const target of targets) {
      const output = `${outDir}/${outputName(target)}`;
      const [cmd, ...argv] = compileArgv(Deno.execPath(), src, target, output);
      const started = performance.now();
      const res = await new Deno.Command(cmd!, { args: argv, stdout: "inherit", stderr: "piped" })
        .output();
      const stderr = new TextDecoder().decode(res.stderr);
      if (!res.success) {
        console.error(explainFailure(stderr, target, denortBin) ?? `compile: ${stderr.trim()}`);
        return 1;
      }
      const size = (await Deno.stat(output)).size;
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`built ${output} (${target}, ${(size / 1e6).toFixed(1)} MB, ${secs} s)`);
      if (target === hostTarget()) {
        await Deno.copyFile(output, `${outDir}/upkeep`);
        await Deno.chmod(`${outDir}/upkeep`, 0o755);
        console.log(`built ${outDir}/upkeep (host copy)`);
      }
    }
    console.log(`revision ${revision}`);
    return 0;
  } finally {
    await Deno.remove(src, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
