/** readSmallFile: a /proc file read whole through FFI, null for what is gone. */

import { equal } from "node:assert/strict";
import { readSmallFile } from "../../../lib/process/ffi.ts";

Deno.test("readSmallFile() reads a /proc file whole, and null when it cannot be opened", () => {
  const stat = readSmallFile(`/proc/${Deno.pid}/stat`);
  equal(typeof stat, "string");
  equal(stat!.startsWith(`${Deno.pid} (`), true);
  equal(readSmallFile("/proc/0/no-such-file"), null);
  equal(readSmallFile("/no/such/file"), null);
});

Deno.test("readSmallFile() grows its buffer for a bigger file, byte for byte (UTF-8)", () => {
  const dir = Deno.makeTempDirSync({ prefix: "upkeep-read-" });
  try {
    const text = "h\u00e9llo \u2603\n".repeat(20_000); // ~280 KB, past the 16 KiB buffer
    Deno.writeTextFileSync(`${dir}/big`, text);
    equal(readSmallFile(`${dir}/big`), text);
    Deno.writeTextFileSync(`${dir}/empty`, "");
    equal(readSmallFile(`${dir}/empty`), "");
    equal(readSmallFile(`${dir}/big`), text); // again, with the grown buffer
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
