/**
 * The posix_spawn fast path: own session, log file with both streams, cwd, env, errors; children
 * are reaped with waitpidNoHang (Deno does not know them).
 */

import { deepStrictEqual as assertEquals, match as assertMatch, throws } from "node:assert/strict";
import { fastSpawn, resolveProgram } from "../../lib/process/fast_spawn.ts";
import { waitpidNoHang } from "../../lib/process/ffi.ts";
import type { ExitStatus } from "../../lib/process/spawn.ts";
import { tempDir, waitFor } from "./helpers.ts";

const plan = (
  argv: string[],
  cwd = "/",
  env: Record<string, string> = { PATH: "/usr/bin:/bin" },
) => ({
  argv,
  env,
  cwd,
  stdout: "inherit" as const,
  stderr: "inherit" as const,
  helper: false,
});

async function reap(pid: number): Promise<ExitStatus> {
  return await waitFor(() => waitpidNoHang(pid), `exit of ${pid}`);
}

Deno.test("fastSpawn() runs the program in its own session with the log holding both streams", async () => {
  const dir = await tempDir();
  try {
    const log = `${dir.path}/job.log`;
    const pid = fastSpawn(
      plan(
        ["sh", "-c", 'echo out; echo err >&2; echo "$FOO $(pwd)"; cat /proc/self/stat'],
        dir.path,
        {
          PATH: "/usr/bin:/bin",
          FOO: "bar",
        },
      ),
      { file: log },
    );
    assertEquals(await reap(pid), { code: 0, signal: null });
    const text = Deno.readTextFileSync(log);
    assertMatch(text, /^out\nerr\nbar /);
    const stat = text.split("\n")[3]!;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // pgrp and session (fields 5 and 6 of stat) are the process itself.
    assertEquals(fields[2], String(fields[3]));
  } finally {
    await dir.cleanup();
  }
});

Deno.test("fastSpawn() passes every argument and variable byte for byte (UTF-8, empty, '=')", async () => {
  const dir = await tempDir();
  try {
    const log = `${dir.path}/job.log`;
    const env: Record<string, string> = {
      PATH: "/usr/bin:/bin",
      A: "h\u00e9llo \u2603",
      B: "",
      C: "x=y",
    };
    for (let i = 0; i < 200; i++) env[`V${i}`] = "v".repeat(i);
    const pid = fastSpawn(
      plan(
        [
          "sh",
          "-c",
          'printf "%s|%s|%s|%s|%s|%s" "$A" "$B" "$C" "$V199" "$1" "$2"',
          "sh",
          "",
          "\u00fc",
        ],
        "/",
        env,
      ),
      { file: log },
    );
    assertEquals(await reap(pid), { code: 0, signal: null });
    assertEquals(
      Deno.readTextFileSync(log),
      `h\u00e9llo \u2603||x=y|${"v".repeat(199)}||\u00fc`,
    );
  } finally {
    await dir.cleanup();
  }
});

Deno.test("fastSpawn() reports a missing program or directory, and signal deaths", async () => {
  throws(() => fastSpawn(plan(["no-such-program-xyz"]), "null"), /No such file or directory/);
  throws(() => fastSpawn(plan(["/bin/true"], "/no/such/dir"), "null"), /No such file or directory/);
  const pid = fastSpawn(plan(["sleep", "100"]), "null");
  Deno.kill(pid, "SIGKILL");
  assertEquals(await reap(pid), { code: null, signal: "KILL" });
});

Deno.test("resolveProgram() searches the job's PATH", () => {
  assertEquals(resolveProgram("/x/y", undefined), "/x/y");
  assertMatch(resolveProgram("sh", "/nonexistent:/bin")!, /^\/bin\/sh$/);
  assertEquals(resolveProgram("sh", "/nonexistent"), null);
});

Deno.test("resolveProgram() takes only executable regular files (symlinks followed)", async () => {
  const tmp = await tempDir();
  const dir = tmp.path;
  try {
    Deno.writeTextFileSync(`${dir}/plain`, "#!/bin/sh\n", { mode: 0o644 });
    Deno.chmodSync(`${dir}/plain`, 0o644);
    Deno.mkdirSync(`${dir}/sub/tool`, { recursive: true });
    Deno.mkdirSync(`${dir}/bin`);
    Deno.writeTextFileSync(`${dir}/bin/tool`, "#!/bin/sh\n");
    Deno.chmodSync(`${dir}/bin/tool`, 0o755);
    Deno.symlinkSync(`${dir}/bin/tool`, `${dir}/link`);
    assertEquals(resolveProgram("plain", dir), null); // no execute bit
    assertEquals(resolveProgram("tool", `${dir}/sub:${dir}/bin`), `${dir}/bin/tool`); // a dir
    assertEquals(resolveProgram("link", dir), `${dir}/link`);
    assertEquals(resolveProgram("tool", `:${dir}/bin`), `${dir}/bin/tool`); // empty entry
  } finally {
    await tmp.cleanup();
  }
});
