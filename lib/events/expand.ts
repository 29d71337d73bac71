/**
 * `$VAR` expansion as Upstart's `environ_expand` (init/environ.c) does it: for `instance` names and
 * for the patterns of `start on` / `stop on` operands. Pure: no Deno APIs.
 *
 * Forms:
 * - `$NAME`: NAME is `[A-Za-z_][A-Za-z0-9_]*`; unknown -> error `Unknown parameter: NAME`.
 * - `${NAME}`: NAME is itself expanded first (`${$KEY}` looks up the variable named by KEY's value).
 * - `${NAME:-word}` NAME if set and non-empty, else word; `${NAME-word}` NAME if set, else word.
 * - `${NAME:+word}` word if NAME set and non-empty, else ""; `${NAME+word}` word if NAME set.
 * - `${}` is a literal `$`. A `$` followed by anything else (`$$`, `$1`, `$ `, end) is kept as is,
 *   so `$$` stays `$$`.
 * - word is always expanded, even when it is not used: `${SET:-$UNKNOWN}` is an error.
 * - `${A:x}` -> `Expected operator`; `${A` -> `Mismatched braces`.
 * Substituted values are never expanded again.
 */

/** Variables to expand against: a record, or an ordered KEY/VALUE list (first entry wins). */
export type ExpandEnv =
  | Readonly<Record<string, string>>
  | readonly (readonly [string, string])[];

export type ExpandErrorKind = "unknown-parameter" | "expected-operator" | "mismatched-braces";

/** An expansion failure; `message` is Upstart's text (`Unknown parameter: VAR`). */
export class ExpandError extends Error {
  constructor(
    /** The (expanded) variable name for `unknown-parameter`; "" for the syntax errors. */
    readonly variable: string,
    readonly kind: ExpandErrorKind = "unknown-parameter",
  ) {
    super(
      kind === "unknown-parameter"
        ? `Unknown parameter: ${variable}`
        : kind === "expected-operator"
        ? "Expected operator"
        : "Mismatched braces",
    );
    this.name = "ExpandError";
  }
}

/** Expand `text` against `env`; throws ExpandError. */
export function expandVars(text: string, env: ExpandEnv): string {
  const r = tryExpandVars(text, env);
  if (r instanceof ExpandError) throw r;
  return r;
}

/** Like expandVars, but returns the ExpandError instead of throwing (for hot paths). */
export function tryExpandVars(text: string, env: ExpandEnv | undefined): string | ExpandError {
  if (!text.includes("$")) return text;
  const cursor = { src: text, pos: 0 };
  return expandUntil(cursor, lookupIn(env), "");
}

type Lookup = (name: string) => string | undefined;

interface Cursor {
  readonly src: string;
  pos: number;
}

const DEFAULT = 1;
const ALTERNATE = 2;

/** Expand from `c.pos` up to (not past) the first character of `stops` at this level, or the end. */
function expandUntil(c: Cursor, lookup: Lookup, stops: string): string | ExpandError {
  const s = c.src;
  let out = "";
  for (;;) {
    let i = c.pos;
    while (i < s.length && s[i] !== "$" && !stops.includes(s[i]!)) i++;
    out += s.slice(c.pos, i);
    c.pos = i;
    if (i >= s.length || s[i] !== "$") return out;

    const next = s.charCodeAt(i + 1);
    if (isNameStart(next)) {
      let j = i + 2;
      while (j < s.length && isNameChar(s.charCodeAt(j))) j++;
      const name = s.slice(i + 1, j);
      const value = lookup(name);
      if (value === undefined) return new ExpandError(name);
      out += value;
      c.pos = j;
      continue;
    }
    if (s[i + 1] !== "{") {
      out += "$"; // a lone dollar stays
      c.pos = i + 1;
      continue;
    }
    if (s[i + 2] === "}") {
      out += "$"; // ${} is a literal dollar
      c.pos = i + 3;
      continue;
    }

    c.pos = i + 2;
    const name = expandUntil(c, lookup, "}:-+");
    if (name instanceof ExpandError) return name;
    let op = 0;
    let ignoreEmpty = false;
    const o = s[c.pos];
    if (o === ":" && s[c.pos + 1] === "-") {
      c.pos += 2;
      op = DEFAULT;
      ignoreEmpty = true;
    } else if (o === ":" && s[c.pos + 1] === "+") {
      c.pos += 2;
      op = ALTERNATE;
      ignoreEmpty = true;
    } else if (o === "-") {
      c.pos++;
      op = DEFAULT;
    } else if (o === "+") {
      c.pos++;
      op = ALTERNATE;
    } else if (o !== "}" && c.pos < s.length) {
      return new ExpandError("", "expected-operator");
    }
    const word = expandUntil(c, lookup, "}");
    if (word instanceof ExpandError) return word;
    if (s[c.pos] !== "}") return new ExpandError("", "mismatched-braces");
    c.pos++;

    const value = lookup(name);
    const unset = value === undefined || (ignoreEmpty && value === "");
    if (op === DEFAULT) out += unset ? word : value;
    else if (op === ALTERNATE) out += unset ? "" : word;
    else if (value === undefined) return new ExpandError(name);
    else out += value;
  }
}

function isNameStart(ch: number): boolean {
  return ch === 0x5f || (ch >= 0x41 && ch <= 0x5a) || (ch >= 0x61 && ch <= 0x7a);
}

function isNameChar(ch: number): boolean {
  return isNameStart(ch) || (ch >= 0x30 && ch <= 0x39);
}

/**
 * Upstart looks a name up by comparing `NAME=` with the start of each `KEY=VALUE` entry, so a
 * `${...}` name that contains `=` can match inside a value (`${A=B}` with A=`B=C` gives `C`).
 */
function lookupIn(env: ExpandEnv | undefined): Lookup {
  if (env === undefined) return () => undefined;
  if (isList(env)) {
    return (name) => {
      for (const [k, v] of env) {
        const found = entryValue(k, v, name);
        if (found !== undefined) return found;
      }
      return undefined;
    };
  }
  return (name) => {
    const eq = name.indexOf("=");
    const key = eq < 0 ? name : name.slice(0, eq);
    if (!Object.hasOwn(env, key)) return undefined;
    return entryValue(key, env[key]!, name);
  };
}

function isList(env: ExpandEnv): env is readonly (readonly [string, string])[] {
  return Array.isArray(env);
}

/** The value entry `k=v` yields for a lookup of `name`, or undefined. */
function entryValue(k: string, v: string, name: string): string | undefined {
  if (k === name) return v;
  const entry = `${k}=${v}`;
  return entry.startsWith(`${name}=`) && name.length > k.length
    ? entry.slice(name.length + 1)
    : undefined;
}
