/** parseOptions(): the daemon's small long-option parser. */

import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { parseOptions } from "../../../lib/cli/options.ts";

const spec = {
  "conf-dir": { type: "string", multiple: true },
  socket: { type: "string" },
  debug: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

Deno.test("parseOptions() reads values, repeats, inline values, flags and short flags", () => {
  assertEquals(
    parseOptions(["--conf-dir", "a", "--conf-dir=b", "--socket=/s", "--debug", "-h"], spec),
    { "conf-dir": ["a", "b"], socket: "/s", debug: true, help: true },
  );
});

Deno.test("parseOptions() rejects unknown options, missing values and stray arguments", () => {
  throws(() => parseOptions(["--nope"], spec), /unknown option '--nope'/);
  throws(() => parseOptions(["--socket"], spec), /needs a value/);
  throws(() => parseOptions(["extra"], spec), /unexpected argument 'extra'/);
  throws(() => parseOptions(["--debug=1"], spec), /takes no value/);
  throws(() => parseOptions(["-x"], spec), /unknown option '-x'/);
});
