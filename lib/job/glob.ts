/**
 * `fnmatch(3)` with flags 0, as Upstart uses for event values and `emits` globs: `*`, `?`,
 * `[...]`, `[!...]` (and `[^...]`), ranges, `\` escapes; `/` and leading dots are not special.
 * Pure: no Deno APIs. Iterative (no backtracking blow-up on long inputs).
 */

/** Match one bracket expression at `p` against `ch`; returns [matched, index after `]`] or null. */
function bracket(pat: string, p: number, ch: string): [boolean, number] | null {
  let i = p + 1;
  let negate = false;
  if (pat[i] === "!" || pat[i] === "^") {
    negate = true;
    i++;
  }
  let matched = false;
  let first = true;
  while (i < pat.length && (first || pat[i] !== "]")) {
    first = false;
    let lo = pat[i]!;
    if (lo === "\\" && i + 1 < pat.length) lo = pat[++i]!;
    let hi = lo;
    if (pat[i + 1] === "-" && i + 2 < pat.length && pat[i + 2] !== "]") {
      hi = pat[i + 2]!;
      if (hi === "\\" && i + 3 < pat.length) hi = pat[++i + 2]!;
      i += 2;
    }
    if (lo <= ch && ch <= hi) matched = true;
    i++;
  }
  if (i >= pat.length) return null; // no closing bracket: '[' is literal
  return [matched !== negate, i + 1];
}

/** True when `text` matches the glob `pattern`. */
export function fnmatch(pattern: string, text: string): boolean {
  let p = 0, t = 0;
  let starP = -1, starT = 0;
  while (t < text.length) {
    const pc = pattern[p];
    if (pc === "*") {
      starP = ++p;
      starT = t;
      continue;
    }
    if (pc !== undefined) {
      if (pc === "?") {
        p++;
        t++;
        continue;
      }
      if (pc === "[") {
        const b = bracket(pattern, p, text[t]!);
        if (b) {
          if (b[0]) {
            p = b[1];
            t++;
            continue;
          }
        } else if (text[t] === "[") {
          p++;
          t++;
          continue;
        }
      } else {
        let lit = pc;
        let next = p + 1;
        if (pc === "\\" && p + 1 < pattern.length) {
          lit = pattern[p + 1]!;
          next = p + 2;
        }
        if (lit === text[t]) {
          p = next;
          t++;
          continue;
        }
      }
    }
    if (starP === -1) return false;
    p = starP;
    t = ++starT;
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}
