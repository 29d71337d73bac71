/**
 * Running upkeep (and small Deno scripts) as `nobody` from a clone anywhere, a 0700 directory
 * included: upkeep's source is copied into a temp dir that nobody can read, with its own
 * DENO_DIR; the deno binary is copied there too when nobody cannot reach Deno.execPath(). Made
 * once per test process and removed when it exits. Root only (tests that use it are ignored
 * otherwise).
 */

import { REPO_ROOT, type RunResult } from "./helpers.ts";

export const NOBODY = 65534;

interface NobodyRuntime {
  readonly dir: string;
  /** The command prefix that runs a Deno script as nobody: [deno, run, -A, --quiet]. */
  readonly deno: string[];
  /** The command prefix that runs upkeep as nobody. */
  readonly upkeep: string[];
  readonly env: Record<string, string>;
}

let runtime: Promise<NobodyRuntime> | null = null;

/** Can nobody run `path` (every directory above it searchable, the file executable)? */
async function nobodyCanRun(path: string): Promise<boolean> {
  try {
    const out = await new Deno.Command(path, {
      args: ["--version"],
      uid: NOBODY,
      gid: NOBODY,
      cwd: "/",
      stdout: "null",
      stderr: "null",
      env: { HOME: "/" },
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

async function prepare(): Promise<NobodyRuntime> {
  const dir = await Deno.makeTempDir({ prefix: "upkeep-nobody-" });
  await Deno.chmod(dir, 0o755);
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* gone */ }
  });
  const denoDir = `${dir}/deno-dir`;
  await Deno.mkdir(denoDir);
  await Deno.chown(denoDir, NOBODY, NOBODY);
  const env = { HOME: dir, DENO_DIR: denoDir, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };

  let deno = Deno.execPath();
  if (!(await nobodyCanRun(deno))) {
    await Deno.copyFile(deno, `${dir}/deno`);
    await Deno.chmod(`${dir}/deno`, 0o755);
    deno = `${dir}/deno`;
  }
  const denoRun = [deno, "run", "-A", "--quiet", "--no-config"];
  const bin = Deno.env.get("UPKEEP_BIN");
  if (bin) {
    const path = bin.startsWith("/") ? bin : `${REPO_ROOT}/${bin}`;
    await Deno.copyFile(path, `${dir}/upkeep`);
    await Deno.chmod(`${dir}/upkeep`, 0o755);
    return { dir, deno: denoRun, upkeep: [`${dir}/upkeep`], env };
  }
  // A copy of the program's source (main.ts and lib/), readable by nobody. (Not a bundle:
  // subcommands are imported through computed specifiers, which a bundle cannot follow.)
  const src = `${dir}/src`;
  await Deno.mkdir(src);
  const out = await new Deno.Command("cp", {
    args: ["-r", `${REPO_ROOT}/lib`, `${REPO_ROOT}/main.ts`, `${src}/`],
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`cannot copy the source for nobody: ${new TextDecoder().decode(out.stderr)}`);
  }
  await new Deno.Command("chmod", { args: ["-R", "a+rX", src] }).output();
  return { dir, deno: denoRun, upkeep: [...denoRun, `${src}/main.ts`], env };
}

/** The runtime for nobody (made on first use). */
export function nobodyRuntime(): Promise<NobodyRuntime> {
  runtime ??= prepare();
  return runtime;
}

/** Run upkeep with `args` as nobody to completion. */
export async function runUpkeepAsNobody(
  args: string[],
  env: Record<string, string> = {},
): Promise<RunResult> {
  const rt = await nobodyRuntime();
  const [cmd, ...pre] = rt.upkeep;
  const out = await new Deno.Command(cmd!, {
    args: [...pre, ...args],
    uid: NOBODY,
    gid: NOBODY,
    cwd: rt.dir,
    clearEnv: true,
    env: { ...rt.env, ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Start a Deno script (its source text) as nobody; the caller reads its output and kills it. */
export async function spawnScriptAsNobody(source: string, args: string[] = []): Promise<
  Deno.ChildProcess
> {
  const rt = await nobodyRuntime();
  const path = await Deno.makeTempFile({ dir: rt.dir, suffix: ".ts" });
  await Deno.writeTextFile(path, source);
  await Deno.chmod(path, 0o644);
  const [cmd, ...pre] = rt.deno;
  return new Deno.Command(cmd!, {
    args: [...pre, path, ...args],
    uid: NOBODY,
    gid: NOBODY,
    cwd: rt.dir,
    clearEnv: true,
    env: rt.env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}
