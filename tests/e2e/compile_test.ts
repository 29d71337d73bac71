/**
 * The single binary: `deno task compile` fails offline with one clear message and leaves the
 * checkout untouched; the program reads nothing beside its source at run time; `--version` prints
 * version, revision and Deno version. (This sandbox cannot download denort, so the successful
 * build runs only where it can: `UPKEEP_BIN=dist/upkeep-x86_64-linux deno task test`.)
 */

import assert from "node:assert/strict";
import { REPO_ROOT, runUpkeep, tempDir } from "./helpers.ts";
import { chooseTargets, compileArgv, explainFailure, outputName } from "../../scripts/compile.ts";
import { DAEMON_V8_FLAGS } from "../../lib/process/self_exec.ts";

async function git(...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args: ["-C", REPO_ROOT, ...args], stderr: "null" })
    .output();
  return new TextDecoder().decode(out.stdout);
}

async function compile(out: string, env: Record<string, string> = {}) {
  const res = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${REPO_ROOT}/scripts/compile.ts`, "--out", out],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: res.code, stdout: dec.decode(res.stdout), stderr: dec.decode(res.stderr) };
}

/** Whether this machine can reach the Deno runtime download (it cannot in the sandbox). */
const offline = !Deno.env.get("DENORT_BIN") &&
  await fetch("https://dl.deno.land/", { method: "HEAD", signal: AbortSignal.timeout(2000) })
    .then(() => false, () => true);

Deno.test({
  name:
    "compile without network fails with one message that names DENORT_BIN, leaving the tree clean",
  ignore: !offline,
  async fn() {
    const out = await tempDir();
    const before = await git("status", "--porcelain", "--", "lib/version.ts");
    try {
      const r = await compile(out.path);
      assert.equal(r.code, 1);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(
        lines[0]!,
        /^compile: could not download the Deno runtime \(denort\) for x86_64-unknown-linux-gnu from https:\/\/dl\.deno\.land\/\S+: .+\. To build offline, .*DENORT_BIN=\/path\/to\/denort deno task compile$/,
      );
      assert.deepEqual([...Deno.readDirSync(out.path)].map((e) => e.name), []);
      assert.equal(await git("status", "--porcelain", "--", "lib/version.ts"), before);
    } finally {
      await out.cleanup();
    }
  },
});

Deno.test("compile with a DENORT_BIN that does not exist says so and exits 1", async () => {
  const out = await tempDir();
  try {
    const r = await compile(out.path, { DENORT_BIN: "/nonexistent/denort" });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^compile: DENORT_BIN points to '\/nonexistent\/denort', which does not exist\./,
    );
  } finally {
    await out.cleanup();
  }
});

Deno.test("compile builds both Linux targets, or only the host's with DENORT_BIN", () => {
  assert.deepEqual(chooseTargets([], undefined), [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
  ]);
  assert.deepEqual(chooseTargets([], "/opt/denort"), [Deno.build.target]);
  assert.equal(outputName("aarch64-unknown-linux-gnu"), "upkeep-aarch64-linux");
  const argv = compileArgv("/usr/bin/deno", "/tmp/src", "x86_64-unknown-linux-gnu", "dist/u");
  assert.deepEqual(argv.slice(0, 3), ["/usr/bin/deno", "compile", "-A"]);
  assert.ok(argv.includes("--target") && argv.at(-1) === "/tmp/src/main.ts");
  // A compiled binary reads no DENO_V8_FLAGS: the daemon's flags are built in.
  assert.ok(argv.includes(`--v8-flags=${DAEMON_V8_FLAGS.join(",")}`), argv.join(" "));
});

Deno.test("explainFailure() leaves unrelated compile errors alone", () => {
  assert.equal(
    explainFailure("error: TS2304 Cannot find name 'x'", "x86_64-unknown-linux-gnu", undefined),
    null,
  );
});

/**
 * Files that may use the module's own location, and why that is safe in a compiled binary.
 * Everything else must not: a compiled binary has no source tree beside it.
 */
const ALLOWED: Record<string, string> = {
  "lib/cli/shims.ts": "selfCommand() reads Deno.mainModule only when running under deno",
};

Deno.test("nothing in the program finds files beside its source at run time", async () => {
  const offenders: string[] = [];
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(`${REPO_ROOT}/${rel}`)) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (p.endsWith(".ts")) check(p, await Deno.readTextFile(`${REPO_ROOT}/${p}`));
    }
  };
  const check = (path: string, text: string) => {
    if (path in ALLOWED) return;
    const lines = text.split("\n");
    lines.forEach((line, i) => {
      if (/^\s*(\*|\/\/)/.test(line)) return; // comments
      if (!/import\.meta\.(url|dirname|filename|resolve)|Deno\.mainModule/.test(line)) return;
      const marked = /compiled-safe/.test(line) || /compiled-safe/.test(lines[i - 1] ?? "");
      if (!marked) offenders.push(`${path}:${i + 1}: ${line.trim()}`);
    });
  };
  check("main.ts", await Deno.readTextFile(`${REPO_ROOT}/main.ts`));
  await walk("lib");
  assert.deepEqual(offenders, [], "use Deno.execPath() / baked build facts instead");
});

Deno.test("upkeep --version prints version, git revision and Deno version", async () => {
  const r = await runUpkeep(["--version"]);
  assert.equal(r.code, 0);
  assert.match(
    r.stdout.trim(),
    /^upkeep \d+\.\d+\.\d+ \(revision [0-9a-f]{7,40}(-dirty)?, deno \d+\.\d+\.\d+\)$/,
  );
});

Deno.test("every module imported through a computed specifier is embedded by compile (LAZY_MODULES)", async () => {
  // A module loaded through `load<…>("./x.ts")` is invisible to `deno compile`'s graph: without
  // `--include` (LAZY_MODULES), the compiled binary fails where `deno run` works. `load` imports
  // relative to lib/cli/lazy.ts, wherever it is called from; each path must also name a file.
  const { LAZY_MODULES } = await import("../../lib/cli/lazy.ts");
  const cli = `${REPO_ROOT}/lib/cli`;
  const missing: string[] = [];
  let found = 0;
  const check = async (p: string) => {
    const text = await Deno.readTextFile(p);
    for (const m of text.matchAll(/\bload<[^>]*>\(\s*"(\.{1,2}\/[^"]+)"/g)) {
      found++;
      const listed = (LAZY_MODULES as readonly string[]).includes(m[1]!);
      const exists = await Deno.stat(new URL(m[1]!, `file://${cli}/lazy.ts`)).then(
        () => true,
        () => false,
      );
      if (!listed || !exists) missing.push(`${p}: ${m[1]}${exists ? "" : " (no such file)"}`);
    }
  };
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (p.endsWith(".ts")) await check(p);
    }
  };
  await check(`${REPO_ROOT}/main.ts`);
  await walk(`${REPO_ROOT}/lib`);
  assert.deepEqual(missing, []);
  assert.ok(found >= LAZY_MODULES.length, `only ${found} load() calls found`);
});
