/**
 * Spawn failures a moment may cure: the system was short of something (open files, processes,
 * memory), not the job wrong. Told apart by the system's words (strerror) that every spawn error
 * carries (lib/process; Deno adds " (os error N)"). Pure: no Deno APIs.
 *
 * Such a failure is retried as a crash is (respawn limit, `respawn delay`, `respawn retry`), but
 * never at once: a spawn that fails takes no time, and retried at once it runs into Upstart's
 * respawn limit (10 in 5 s) within one turn of the loop, before anything can free what it lacks.
 * Without a `respawn delay` of its own, the job waits SHORTAGE_DELAY (1 s, doubling, at most 30 s).
 */

/** strerror of EMFILE, ENFILE ("... in system"), EAGAIN, ENOMEM, ENOBUFS. */
const SHORTAGES = [
  "Too many open files in system",
  "Too many open files",
  "Resource temporarily unavailable",
  "Cannot allocate memory",
  "No buffer space available",
];

/** The system's words for the shortage `message` reports, or null when it reports none. */
export function shortageIn(message: string): string | null {
  return SHORTAGES.find((words) => message.includes(words)) ?? null;
}

/** Back-off (seconds, as `respawn delay MIN MAX`) of a job without one, after a shortage. */
export const SHORTAGE_DELAY = { min: 1, max: 30 } as const;
