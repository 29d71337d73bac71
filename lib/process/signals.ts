/**
 * Linux signal names and numbers (the same on x86_64 and aarch64). Pure.
 * Names are kept without the `SIG` prefix, as Upstart prints them (`EXIT_SIGNAL=KILL`).
 */

const NUMBERS: Readonly<Record<string, number>> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  IOT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  POLL: 29,
  PWR: 30,
  SYS: 31,
};

const NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(NUMBERS).filter(([n]) => !["IOT", "CLD", "POLL"].includes(n)).map((
    [n, v],
  ) => [v, n]),
);

/** Number of a signal given as `TERM`, `SIGTERM` or `15`; null when unknown or out of range. */
export function signalNumber(text: string): number | null {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= 1 && n <= 64 ? n : null;
  }
  const name = text.startsWith("SIG") ? text.slice(3) : text;
  return NUMBERS[name] ?? null;
}

/** Name (without `SIG`) of a signal number; the decimal number when it has no name (real-time signals). */
export function signalName(n: number): string {
  return NAMES.get(n) ?? String(n);
}

/** Canonical form of a signal given by name or number: its name when known (`SIGTERM`/`15` -> `TERM`). */
export function canonicalSignal(text: string): string | null {
  const n = signalNumber(text);
  return n === null ? null : signalName(n);
}

/** The `Deno.Signal` for a canonical name, or null for signals Deno cannot send by name. */
export function denoSignal(name: string): Deno.Signal | null {
  const n = signalNumber(name);
  if (n === null || !NAMES.has(n)) return null;
  return `SIG${signalName(n)}` as Deno.Signal;
}
