/**
 * Crash-loop back-off for `respawn delay MIN MAX` (an upkeep extension), and the one-line
 * description of a process exit used in logs and events. Pure: no Deno APIs, no clock.
 *
 * The delay before the n-th consecutive quick respawn is MIN * 2^(n-1), capped at MAX.
 *
 * Reset rule: the count of consecutive failures goes back to zero when the job had been running
 * for at least MAX seconds (or MIN, when a file gives MAX < MIN) before it failed. Reasoning: at
 * the cap the back-off lets the job restart at most once per MAX seconds; a job that stayed up
 * for MAX seconds already fails no faster than that, so restarting it at once (after MIN) cannot
 * exceed the rate the cap allows, while a job that crashes sooner keeps climbing the ladder.
 * (Kubernetes resets its crash-loop back-off the same way, after a run longer than the cap.)
 */

/** Seconds of uptime after which a failure no longer counts as part of a crash loop. */
export function resetAfterSeconds(min: number, max: number): number {
  return Math.max(sane(min), sane(max));
}

/**
 * Delay (seconds) before the next respawn for the `consecutive`-th consecutive quick failure
 * (counted from 1; values below 1 count as 1): `min * 2^(consecutive-1)`, never above `max`.
 * A `max` below `min` caps at `max`; negative or non-finite inputs count as 0.
 */
export function respawnDelaySeconds(min: number, max: number, consecutive: number): number {
  const lo = sane(min);
  const hi = sane(max);
  const n = Number.isFinite(consecutive) ? Math.max(1, Math.floor(consecutive)) : 1;
  // 2^1100 is Infinity, which Math.min caps correctly; keep the exponent finite anyway.
  const delay = lo * 2 ** Math.min(n - 1, 1023);
  return Math.min(delay, hi);
}

/** True when a job that ran `uptimeSeconds` before failing starts the back-off from scratch. */
export function shouldResetBackoff(min: number, max: number, uptimeSeconds: number): boolean {
  return uptimeSeconds >= resetAfterSeconds(min, max);
}

/**
 * Human description of an exit for logs and events: `"exit status 3"` / `"killed by signal KILL"`.
 * `signal` wins when both are given (Deno reports a signal death with code 128+n as well); it may
 * carry the `SIG` prefix (`"SIGKILL"`) or be a number for signals without a name.
 */
export function describeExit(code: number | null, signal: string | null): string {
  if (signal !== null && signal !== "") {
    const name = signal.startsWith("SIG") ? signal.slice(3) : signal;
    return `killed by signal ${name}`;
  }
  if (code !== null) return `exit status ${code}`;
  return "exit status unknown";
}

function sane(n: number): number {
  return Number.isFinite(n) && n > 0 ? n : 0;
}
