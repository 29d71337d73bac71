/**
 * `fnmatch(3)` with flags 0, exactly as glibc does it in the C locale (Upstart's init never calls
 * `setlocale`, so its event patterns are matched byte by byte): `*`, `?`, bracket expressions
 * `[...]`, `[!...]`, `[^...]` with ranges, `[:class:]`, `[=c=]` and `[.c.]`, and `\` escapes. `/` and
 * a leading `.` are ordinary characters.
 *
 * Malformed patterns behave as glibc 2.36's (checked against it on 250,000 random cases): an
 * unterminated bracket is an ordinary `[` (`[abc` matches only the text `[abc`); an unknown class
 * name (`[[:foo:]]`), a bad collating symbol (`[[.ab.]]`), a range without an end (`[a-`) or a
 * trailing `\` never match. Strings are compared as UTF-8 bytes, so `?` matches one byte (as init
 * does), not one character.
 *
 * Pure: no Deno APIs. Never throws.
 */

const encoder = new TextEncoder();

const STAR = 0x2a; // *
const QUESTION = 0x3f; // ?
const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const BACKSLASH = 0x5c; // \
const BANG = 0x21; // !
const CARET = 0x5e; // ^
const COLON = 0x3a; // :
const EQUALS = 0x3d; // =
const DOT = 0x2e; // .
const DASH = 0x2d; // -
const LOWER_A = 0x61;
const LOWER_Z = 0x7a;

/** Outcome of a bracket expression that is not a plain "next pattern index". */
const FAIL = -1;
/** The bracket is unterminated: glibc then matches the `[` as an ordinary character. */
const LITERAL = -2;

const METACHARS = /[*?[\\]/;

/** Does `text` match the shell wildcard `pattern` (glibc `fnmatch(pattern, text, 0) == 0`)? */
export function fnmatch(pattern: string, text: string): boolean {
  if (!METACHARS.test(pattern)) return pattern === text;
  return matchBytes(toBytes(pattern), toBytes(text));
}

const NON_ASCII = /[\u0080-\uffff]/;

/** `s` as a string of UTF-8 bytes (one char per byte); ASCII strings are already that. */
function toBytes(s: string): string {
  if (!NON_ASCII.test(s)) return s;
  let out = "";
  for (const b of encoder.encode(s)) out += String.fromCharCode(b);
  return out;
}

/** The pattern byte at `i`, or 0 past the end (the C string terminator). */
function at(p: string, i: number): number {
  return i < p.length ? p.charCodeAt(i) : 0;
}

/**
 * The star loop: every element other than `*` consumes exactly one text byte, so the usual
 * "remember the last star, retry one byte further on failure" search finds the same answer as
 * glibc's recursion (which also commits to the leftmost match of the segment before the next `*`).
 */
function matchBytes(p: string, s: string): boolean {
  let pi = 0;
  let ti = 0;
  let starPi = -1;
  let starTi = -1;
  for (;;) {
    const c = at(p, pi);
    if (c === STAR) {
      pi++;
      // Collapse a run of `*` and `?`; each `?` consumes one byte now.
      for (;;) {
        const d = at(p, pi);
        if (d === STAR) pi++;
        else if (d === QUESTION) {
          if (ti >= s.length) return false;
          ti++;
          pi++;
        } else break;
      }
      if (at(p, pi) === 0) return true;
      starPi = pi;
      starTi = ti;
      continue;
    }
    if (c === 0) {
      if (ti === s.length) return true;
    } else {
      const next = ti < s.length ? stepOne(p, pi, s.charCodeAt(ti)) : FAIL;
      if (next !== FAIL) {
        pi = next;
        ti++;
        continue;
      }
    }
    // Mismatch: retry the segment after the last star one byte further on.
    if (starPi < 0) return false;
    starTi++;
    if (starTi >= s.length) return false;
    pi = starPi;
    ti = starTi;
  }
}

/** Match the one-byte element at `p[pi]` (not `*`, not the end) against `ch`: next index or FAIL. */
function stepOne(p: string, pi: number, ch: number): number {
  const c = p.charCodeAt(pi);
  switch (c) {
    case QUESTION:
      return pi + 1;
    case BACKSLASH: {
      const e = at(p, pi + 1);
      if (e === 0) return FAIL; // trailing backslash loses
      return e === ch ? pi + 2 : FAIL;
    }
    case OPEN: {
      const r = bracket(p, pi + 1, ch);
      if (r === LITERAL) return ch === OPEN ? pi + 1 : FAIL;
      return r;
    }
    default:
      return c === ch ? pi + 1 : FAIL;
  }
}

/**
 * A bracket expression starting just after its `[` at index `start`, against byte `fn`. Returns
 * the index just past the closing `]` on a match, FAIL, or LITERAL for an unterminated bracket that
 * did not contain `fn`. Mirrors glibc's `fnmatch_loop.c` (C locale, no collation rules).
 */
function bracket(p: string, start: number, fn: number): number {
  let i = start;
  const negated = at(p, i) === BANG || at(p, i) === CARET;
  if (negated) i++;
  let c = at(p, i++);
  let matched = false;
  scan: for (;;) {
    // `plain`: c is an ordinary member byte (possibly the start of a range).
    let plain = false;
    let cold = 0;
    let haveCold = false;
    if (c === BACKSLASH) {
      if (at(p, i) === 0) return FAIL;
      c = at(p, i++);
      plain = true;
    } else if (c === OPEN && at(p, i) === COLON) {
      const startp = i;
      let name = "";
      let isName = true;
      for (;;) {
        c = at(p, ++i);
        if (c === COLON && at(p, i + 1) === CLOSE) {
          i += 2;
          break;
        }
        if (c < LOWER_A || c >= LOWER_Z) {
          isName = false;
          break;
        }
        name += String.fromCharCode(c);
      }
      if (!isName) {
        i = startp;
        c = OPEN;
        plain = true;
      } else {
        const test = CLASSES.get(name);
        if (test === undefined) return FAIL;
        if (test(fn)) {
          matched = true;
          break scan;
        }
        c = at(p, i++);
      }
    } else if (c === OPEN && at(p, i) === EQUALS) {
      const startp = i;
      const sym = at(p, i + 1);
      if (sym !== 0 && at(p, i + 2) === EQUALS && at(p, i + 3) === CLOSE) {
        i += 4;
        if (fn === sym) {
          matched = true;
          break scan;
        }
        c = at(p, i++);
      } else {
        i = startp;
        c = OPEN;
        plain = true;
      }
    } else if (c === 0) {
      return LITERAL;
    } else if (c === OPEN && at(p, i) === DOT) {
      // Collating symbol: in the C locale only a single byte `[.c.]` is valid.
      const end = collatingEnd(p, i);
      if (end === FAIL) return FAIL;
      const sym = at(p, i + 1);
      i = end;
      const isRange = at(p, i) === DASH && at(p, i + 1) !== 0;
      if (!isRange && fn === sym) {
        matched = true;
        break scan;
      }
      cold = sym;
      haveCold = true;
      c = at(p, i++);
    } else {
      plain = true;
    }
    if (plain) {
      const isRange = at(p, i) === DASH && at(p, i + 1) !== 0 && at(p, i + 1) !== CLOSE;
      if (!isRange && c === fn) {
        matched = true;
        break scan;
      }
      cold = c;
      haveCold = true;
      c = at(p, i++);
    }
    if (haveCold && c === DASH && at(p, i) !== CLOSE) {
      let cend = at(p, i++);
      if (cend === OPEN && at(p, i) === DOT) {
        const end = collatingEnd(p, i);
        if (end === FAIL) return FAIL;
        cend = at(p, i + 1);
        i = end;
      } else {
        if (cend === BACKSLASH) cend = at(p, i++);
        if (cend === 0) return FAIL;
      }
      if (cold <= fn && fn <= cend) {
        matched = true;
        break scan;
      }
      c = at(p, i++);
    }
    if (c === CLOSE) break;
  }
  if (!matched) return negated ? i : FAIL;
  const end = skipRest(p, i);
  if (end === LITERAL) return LITERAL;
  if (end === FAIL || negated) return FAIL;
  return end;
}

/** `[.c.]` starting at the `.` index `dot`: index past `.]`, or FAIL unless exactly one byte. */
function collatingEnd(p: string, dot: number): number {
  let i = dot;
  let count = 0;
  for (;;) {
    const c = at(p, ++i);
    if (c === DOT && at(p, i + 1) === CLOSE) break;
    if (c === 0) return FAIL;
    count++;
  }
  return count === 1 ? i + 2 : FAIL;
}

/**
 * After a member matched: skip to just past the closing `]` (glibc's rules), FAIL, or LITERAL when
 * the bracket turns out to be unterminated (glibc 2.36; older glibc failed here instead).
 */
function skipRest(p: string, from: number): number {
  let i = from;
  for (;;) {
    const c = at(p, i++);
    if (c === CLOSE) return i;
    if (c === 0) return LITERAL;
    if (c === BACKSLASH) {
      if (at(p, i) === 0) return FAIL;
      i++;
    } else if (c === OPEN && at(p, i) === COLON) {
      const startp = i;
      for (;;) {
        const d = at(p, ++i);
        if (d === COLON && at(p, i + 1) === CLOSE) break;
        if (d < LOWER_A || d >= LOWER_Z) {
          i = startp - 2;
          break;
        }
      }
      i += 2;
    } else if (c === OPEN && at(p, i) === EQUALS) {
      if (at(p, i + 1) === 0) return FAIL;
      if (at(p, i + 2) !== EQUALS || at(p, i + 3) !== CLOSE) return FAIL;
      i += 4;
    } else if (c === OPEN && at(p, i) === DOT) {
      for (;;) {
        const d = at(p, ++i);
        if (d === 0) return FAIL;
        if (d === DOT && at(p, i + 1) === CLOSE) break;
      }
      i += 2;
    }
  }
}

const isUpper = (c: number) => c >= 0x41 && c <= 0x5a;
const isLower = (c: number) => c >= 0x61 && c <= 0x7a;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number) => isUpper(c) || isLower(c);
const isAlnum = (c: number) => isAlpha(c) || isDigit(c);
const isGraph = (c: number) => c >= 0x21 && c <= 0x7e;

/** The C locale's character classes (bytes >= 0x80 belong to none). */
const CLASSES: ReadonlyMap<string, (c: number) => boolean> = new Map([
  ["alnum", isAlnum],
  ["alpha", isAlpha],
  ["blank", (c: number) => c === 0x20 || c === 0x09],
  ["cntrl", (c: number) => c < 0x20 || c === 0x7f],
  ["digit", isDigit],
  ["graph", isGraph],
  ["lower", isLower],
  ["print", (c: number) => c >= 0x20 && c <= 0x7e],
  ["punct", (c: number) => isGraph(c) && !isAlnum(c)],
  ["space", (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d)],
  ["upper", isUpper],
  ["xdigit", (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)],
]);
