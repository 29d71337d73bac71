/**
 * Numbers as Upstart reads them: C `strtol`/`strtoul` on 64-bit Linux, where the whole token must
 * be consumed (`*endptr == '\0'`) and overflow (`ERANGE`) is an error. Leading whitespace and a
 * sign are accepted as C accepts them (`+5`; `strtoul("-1")` wraps to ULONG_MAX). Pure.
 */

const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);
export const ULONG_MAX = (1n << 64n) - 1n;
export const INT_MAX = 2147483647n;

/** C `isspace` in the C locale. */
function isCSpace(ch: string): boolean {
  return ch === " " || ch === "\t" || ch === "\n" || ch === "\v" || ch === "\f" || ch === "\r";
}

function digitValue(ch: string): number {
  const c = ch.charCodeAt(0);
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 122) return c - 87;
  if (c >= 65 && c <= 90) return c - 55;
  return 99;
}

/** Sign and magnitude of the whole text in `base`, or null when something is left over. */
function scan(text: string, base: number): { neg: boolean; mag: bigint } | null {
  let i = 0;
  while (i < text.length && isCSpace(text[i]!)) i++;
  let neg = false;
  if (text[i] === "+" || text[i] === "-") {
    neg = text[i] === "-";
    i++;
  }
  const from = i;
  let mag = 0n;
  const b = BigInt(base);
  while (i < text.length && digitValue(text[i]!) < base) {
    mag = mag * b + BigInt(digitValue(text[i]!));
    if (mag > ULONG_MAX + 1n) mag = ULONG_MAX + 2n; // saturate: already out of every range
    i++;
  }
  if (i === from) return text.length === 0 ? { neg: false, mag: 0n } : null; // no digits
  if (i !== text.length) return null;
  return { neg, mag };
}

/** `strtol(text, &end, base)` accepted only when the whole text is a number in range. */
export function strtol(text: string, base = 10): bigint | null {
  const s = scan(text, base);
  if (!s) return null;
  const v = s.neg ? -s.mag : s.mag;
  return v > LONG_MAX || v < LONG_MIN ? null : v;
}

/** `strtoul(text, &end, base)`: a leading `-` negates modulo 2^64, as C does. */
export function strtoul(text: string, base = 10): bigint | null {
  const s = scan(text, base);
  if (!s || s.mag > ULONG_MAX) return null;
  return s.neg && s.mag !== 0n ? ULONG_MAX + 1n - s.mag : s.mag;
}

/** C's `(int)` cast of a long: keep the low 32 bits, signed. */
export function toCInt(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}
