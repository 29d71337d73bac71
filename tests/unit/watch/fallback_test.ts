/**
 * Without FFI (no --allow-ffi), the conf-dir watch falls back to Deno.watchFs and still reloads
 * when a job file is written: a real `deno run` of tests/fixtures/watch_without_ffi.ts.
 */

import { equal } from "node:assert/strict";

Deno.test("without FFI the conf dirs are watched through Deno.watchFs", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "upkeep-watch-" });
  const script = new URL("../../fixtures/watch_without_ffi.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", `--allow-read=${dir}`, script, dir],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  // Should the child never reload, it is killed: the reads below then end, and the test fails.
  const deadline = setTimeout(() => child.kill("SIGKILL"), 10_000);
  try {
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) break;
      out += value;
    }
    equal(out, "watching\n", "started without FFI");
    Deno.writeTextFileSync(`${dir}/a.conf`, "exec true\n");
    while (!out.includes("reloaded\n")) {
      const { value, done } = await lines.read();
      if (done) break;
      out += value;
    }
    equal(out, "watching\nreloaded\n");
    lines.releaseLock();
    equal((await child.status).code, 0);
  } finally {
    clearTimeout(deadline);
    try {
      child.kill("SIGKILL");
    } catch { /* ended */ }
    await child.status;
    await child.stdout.cancel().catch(() => {});
    Deno.removeSync(dir, { recursive: true });
  }
});
