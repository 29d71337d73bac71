/**
 * SIGUSR1 and SIGALRM do nothing to the daemon.
 *
 * Upstart's init takes SIGUSR1 as "reconnect to D-Bus"; upkeep has no D-Bus. Left as Deno leaves
 * it, the signal is dangerous:
 * - under `deno run` (2.9), Deno starts listening for SIGUSR1 half a second after start-up and
 *   answers it as Node does, by opening a V8 inspector on 127.0.0.1:9229. Any local user can
 *   connect to it and run code in the daemon, as root. An administrator's habit is enough to open
 *   it: `kill -USR1` is how many daemons are told to reopen their logs;
 * - a compiled upkeep has no handler for it: SIGUSR1's default action would end the daemon.
 *
 * SIGALRM, which Upstart's session init survives (its default action ends a process), is given the
 * same handler.
 *
 * How: a listener of our own for SIGUSR1 is registered first, so that Deno's later registration
 * only joins the list of listeners and installs no handler of its own. Then the kernel's action
 * for each signal is replaced by a handler that does nothing (ffi.ts catchAndDoNothing). A handler
 * and not SIG_IGN, because execve resets a handler to the default: no child inherits an ignored
 * signal (`Deno.Command` children keep the signals their parent ignores).
 *
 * Either order works: when Deno registered first, catchAndDoNothing replaces its handler; when
 * it registers later, it finds our listener and installs nothing. Only a signal that comes before
 * this call has its old effect.
 *
 * Used by every command that may run for long: `daemon`, `run` (cron jobs, as root) and `logs`
 * (`-f` follows for ever) at once; any other (`initctl start` waits for its job) once it has run
 * for 250 ms (lib/cli/lazy.ts quietSignalsSoon).
 */

import { catchAndDoNothing } from "./ffi.ts";

const SIGUSR1 = 10;
const SIGALRM = 14;

/** What the first call found; later calls only repeat it. */
let outcome: string | null | undefined;

/** The outcome: null when both signals now do nothing, else why not. Once per process. */
export function quietSignals(): string | null {
  if (outcome !== undefined) return outcome;
  try {
    Deno.addSignalListener("SIGUSR1", ignore);
  } catch (e) {
    return outcome = `cannot listen for SIGUSR1: ${e instanceof Error ? e.message : e}`;
  }
  return outcome = catchAndDoNothing([SIGUSR1, SIGALRM]);
}

function ignore(): void {}
