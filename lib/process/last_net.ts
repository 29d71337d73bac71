/**
 * The daemon's last net: an exception no handler took (a bug: the supervisor's loop, the control
 * server and the log pipeline each catch their own) would end the process, as Deno ends any
 * program on an uncaught error or an unhandled promise rejection. The jobs would live on in their
 * own sessions, unsupervised, until something started a daemon again. Instead the error is
 * logged, with where it came from, and the daemon goes on.
 */

/** Where a thrown value came from: its message and the first frame of its stack. */
export function describeThrown(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const frame = e.stack?.split("\n").find((l) => l.trimStart().startsWith("at "))?.trim();
  return frame ? `${e.message} (${frame})` : e.message;
}

/** Log, and keep the process alive on, every uncaught error and unhandled rejection. */
export function installLastNet(log: (message: string) => void): void {
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    log(`internal error (uncaught): ${describeThrown(e.error ?? e.message)}`);
  });
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    log(`internal error (unhandled rejection): ${describeThrown(e.reason)}`);
  });
}
