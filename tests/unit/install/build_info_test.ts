import assert from "node:assert/strict";
import { bakeBuildInfo, isCompiled, selfArgv } from "../../../lib/install/build_info.ts";

const VERSION_TS = `/** doc */
export const VERSION = "0.1.0";
export const BUILD_REVISION = "";
export const BUILD_COMPILED = false;
`;

Deno.test("bakeBuildInfo() sets the revision and the compiled flag, nothing else", () => {
  const out = bakeBuildInfo(VERSION_TS, "abc123-dirty");
  assert.equal(
    out,
    VERSION_TS.replace('REVISION = ""', 'REVISION = "abc123-dirty"').replace(
      "COMPILED = false",
      "COMPILED = true",
    ),
  );
});

Deno.test("bakeBuildInfo() works on the real lib/version.ts", async () => {
  const text = await Deno.readTextFile(new URL("../../../lib/version.ts", import.meta.url));
  const out = bakeBuildInfo(text, "deadbeef");
  assert.match(out, /^export const BUILD_REVISION = "deadbeef";$/m);
  assert.match(out, /^export const BUILD_COMPILED = true;$/m);
});

Deno.test("bakeBuildInfo() throws when version.ts lost its BUILD lines", () => {
  assert.throws(() => bakeBuildInfo('export const VERSION = "1";\n', "x"), /BUILD_REVISION/);
});

Deno.test("isCompiled() trusts the baked flag, else the executable's name", () => {
  assert.equal(isCompiled(true, "/usr/bin/deno"), true);
  assert.equal(isCompiled(false, "/usr/bin/deno"), false);
  assert.equal(isCompiled(false, "/usr/local/sbin/upkeep"), true);
});

Deno.test("selfArgv() runs the binary itself, or deno with main.ts from source", () => {
  assert.deepEqual(selfArgv(true, "/usr/local/sbin/upkeep", "file:///x/main.ts"), [
    "/usr/local/sbin/upkeep",
  ]);
  assert.deepEqual(selfArgv(false, "/usr/bin/deno", "file:///src/my%20dir/main.ts"), [
    "/usr/bin/deno",
    "run",
    "-A",
    "--quiet",
    "--no-config",
    "/src/my dir/main.ts",
  ]);
});
