/**
 * upkeep: an Upstart-compatible process supervisor. The one entry point: it picks the subcommand
 * (or the command named by argv[0], as Upstart's `start`/`stop`/`status` symlinks do) and loads
 * only the module that runs it, so that short commands such as `initctl status` start fast.
 */

import { dispatch } from "./lib/cli/dispatch.ts";

if (import.meta.main) {
  const code = await dispatch(Deno.args);
  Deno.exit(code);
}
