/**
 * The job-file tokenizer, behaving as libnih's `nih_config_*` functions that Upstart 1.13 uses
 * (re-implemented from their documented behaviour, including the odd corners: NUL counts as
 * whitespace and as a delimiter, a newline inside quotes collapses to one space, `\` escapes only
 * backslash, whitespace and newline). Pure: no Deno APIs, never throws on any input.
 *
 * A `Cursor` is a position in the text plus the current 1-based line; every function advances it
 * as libnih advances `pos`/`lineno`. Errors are returned as `LexError` values, never thrown.
 */

/** libnih whitespace: space, tab, CR (and NUL, as C's `strchr` finds the terminator). */
export function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0;
}

/** A delimiter set (C's `strchr` also finds the terminating NUL, so NUL is in every set). */
export type Delim = (c: number) => boolean;

/** Comment or newline. */
export const CNL: Delim = (c) => c === 0x23 || c === 0x0a || c === 0;
/** Comment, newline or whitespace. */
export const CNLWS: Delim = (c) => c === 0x23 || c === 0x0a || isWs(c);
/** Parentheses, comment, newline or whitespace (event expressions). */
export const PAREN_CNLWS: Delim = (c) => c === 0x28 || c === 0x29 || CNLWS(c);

/** Mutable position in a file. */
export interface Cursor {
  readonly src: string;
  pos: number;
  line: number;
}

export function cursor(src: string, pos = 0, line = 1): Cursor {
  return { src, pos, line };
}

export class LexError {
  constructor(readonly message: string, readonly line: number) {}
}

export const MSG = {
  expectedToken: "Expected token",
  unexpectedToken: "Unexpected token",
  trailingSlash: "Trailing slash in file",
  unterminatedQuote: "Unterminated quoted string",
  unterminatedBlock: "Unterminated block",
  unknownStanza: "Unknown stanza",
} as const;

/** A scanned token: its text (quotes kept unless dequoted) and libnih's "token length". */
export interface Token {
  readonly text: string;
  /** Length with quotes, collapsed newlines and trailing whitespace removed; 0 means "no token". */
  readonly len: number;
  /** Line the token started on. */
  readonly line: number;
}

/**
 * Scan one token up to an unquoted, unescaped delimiter (the cursor stops ON the delimiter).
 * With `dequote`, quotes are removed and `\\` / `\<ws>` lose their backslash.
 */
export function scanToken(c: Cursor, delim: Delim, dequote: boolean): Token | LexError {
  const src = c.src, len = src.length, start = c.pos, startLine = c.line;
  let p = start, ws = 0, nlws = 0, qc = 0;
  let slash = false, quote = 0, nl = false;
  let out = "";
  for (; p < len; p++) {
    const ch = src.charCodeAt(p);
    let extra = 0, isq = false;
    if (slash) {
      slash = false;
      if (ch === 0x0a) {
        nlws++;
        nl = true;
        c.line++;
        continue;
      } else if (ch === 0x5c || isWs(ch)) {
        extra++;
        if (dequote) qc++;
      } else {
        out += "\\";
      }
    } else if (ch === 0x5c) {
      slash = true;
      continue;
    } else if (quote) {
      if (ch === quote) {
        quote = 0;
        isq = true;
      } else if (ch === 0x0a) {
        nl = true;
        c.line++;
        continue;
      } else if (isWs(ch)) {
        ws++;
        continue;
      }
    } else if (ch === 0x22 || ch === 0x27) {
      quote = ch;
      isq = true;
    } else if (delim(ch)) {
      break;
    } else if (isWs(ch)) {
      ws++;
      continue;
    }

    if (nl) {
      // A newline (escaped or quoted) and the whitespace around it become one space.
      nlws += ws;
      out += " ";
    } else if (ws) {
      // Copied from the source exactly as libnih does (offset by the escape, if any).
      out += src.slice(p - ws - extra, p - extra);
    }
    if (extra && !dequote) out += src.slice(p - extra, p);
    if (!(isq && dequote)) out += src[p];
    // Fast path: copy a run of characters that need no special handling at once.
    let q = p + 1;
    while (q < len) {
      const d = src.charCodeAt(q);
      if (d === 0x5c || isWs(d)) break;
      if (quote ? d === quote || d === 0x0a : d === 0x22 || d === 0x27 || delim(d)) break;
      q++;
    }
    if (q > p + 1) {
      out += src.slice(p + 1, q);
      p = q - 1;
    }
    if (isq && dequote) qc++;
    ws = 0;
    nl = false;
  }
  c.pos = p;
  if (slash) return new LexError(MSG.trailingSlash, c.line);
  // Reported where the file ended, as libnih does.
  if (quote) return new LexError(MSG.unterminatedQuote, c.line);
  const nul = out.indexOf("\0");
  return {
    text: nul === -1 ? out : out.slice(0, nul),
    len: p - start - ws - nlws - qc,
    line: startLine,
  };
}

/** Skip whitespace and escaped newlines (`\` + newline); stop at anything else. */
export function skipWhitespace(c: Cursor): void {
  const src = c.src, len = src.length;
  while (c.pos < len) {
    const ch = src.charCodeAt(c.pos);
    if (ch === 0x5c) {
      if (c.pos + 1 < len && src.charCodeAt(c.pos + 1) === 0x0a) {
        c.pos++;
      } else break;
    } else if (!isWs(ch)) break;
    if (src.charCodeAt(c.pos) === 0x0a) c.line++;
    c.pos++;
  }
}

/** True when the cursor is not at end of file, a comment or a newline. */
export function hasToken(c: Cursor): boolean {
  return c.pos < c.src.length && !CNL(c.src.charCodeAt(c.pos));
}

/** Move past the end of the current line. */
export function nextLine(c: Cursor): void {
  const nl = c.src.indexOf("\n", c.pos);
  if (nl === -1) {
    c.pos = c.src.length;
  } else {
    c.pos = nl + 1;
    c.line++;
  }
}

/** Expect end of line (or a comment): `Unexpected token` otherwise. Moves past the line. */
export function skipComment(c: Cursor): LexError | null {
  if (hasToken(c)) return new LexError(MSG.unexpectedToken, c.line);
  nextLine(c);
  return null;
}

/** `nih_config_next_token`: one non-empty token, then the whitespace after it. */
export function nextToken(c: Cursor, delim: Delim, dequote: boolean): Token | LexError {
  const line = c.line;
  const t = scanToken(c, delim, dequote);
  if (t instanceof LexError) return t;
  if (!t.len) return new LexError(MSG.expectedToken, line);
  skipWhitespace(c);
  return t;
}

/** `nih_config_next_arg`: a dequoted argument. */
export function nextArg(c: Cursor): Token | LexError {
  return nextToken(c, CNLWS, true);
}

/** `nih_config_parse_command`: the rest of the line up to a comment, quotes kept. */
export function parseCommand(c: Cursor): string | LexError {
  const t = scanToken(c, CNL, false);
  if (t instanceof LexError) return t;
  nextLine(c); // at a comment, newline or EOF: cannot fail
  return t.text;
}

/**
 * If the line at the cursor is `WS* end WS+ TYPE WS* (# ...)?`, move past it and return the
 * offset where that line starts; else return -1 and leave the cursor alone.
 */
function blockEnd(c: Cursor, type: string): number {
  const src = c.src, len = src.length;
  let p = c.pos;
  while (p < len && isWs(src.charCodeAt(p))) p++;
  if (len - p < 4 || !src.startsWith("end", p)) return -1;
  if (!isWs(src.charCodeAt(p + 3))) return -1;
  p += 3;
  while (p < len && isWs(src.charCodeAt(p))) p++;
  if (len - p < type.length || !src.startsWith(type, p)) return -1;
  p += type.length;
  while (p < len && isWs(src.charCodeAt(p))) p++;
  if (p < len && src.charCodeAt(p) === 0x23) {
    const nl = src.indexOf("\n", p);
    p = nl === -1 ? len : nl;
  }
  if (p < len && src.charCodeAt(p) !== 0x0a) return -1;
  const at = c.pos;
  if (p < len) {
    c.line++;
    p++;
  }
  c.pos = p;
  return at;
}

/**
 * `nih_config_parse_block`: the lines up to `end TYPE`, with the leading whitespace common to all
 * of them (compared with the first line's) removed. `Unterminated block` at EOF, reported at the
 * line where the file ended, as libnih does.
 */
export function parseBlock(c: Cursor, type: string): string | LexError {
  const src = c.src, len = src.length;
  const start = c.pos;
  let ws = 0, lines = 0, end = -1;
  while ((end = blockEnd(c, type)) === -1) {
    lines++;
    const lineStart = c.pos;
    let p = lineStart;
    if (lines === 1) {
      while (p < len && isWs(src.charCodeAt(p))) p++;
      ws = p - lineStart;
    } else {
      while (
        p < len && p - lineStart < ws && src.charCodeAt(start + p - lineStart) === src.charCodeAt(p)
      ) p++;
      if (p - lineStart < ws) ws = p - lineStart;
    }
    c.pos = p;
    nextLine(c);
    if (c.pos >= len) return new LexError(MSG.unterminatedBlock, c.line);
  }
  let body = "";
  let pp = start;
  while (pp < end) {
    pp += ws;
    const nl = src.indexOf("\n", pp);
    const stop = nl === -1 || nl >= end ? end : nl + 1;
    const piece = src.slice(pp, stop);
    const nul = piece.indexOf("\0");
    body += nul === -1 ? piece : piece.slice(0, nul); // strncat stops at NUL
    pp = stop;
  }
  return body;
}

/** Skip a block after an error, so that its body is not read as stanzas. */
export function skipBlock(c: Cursor, type: string): void {
  while (c.pos < c.src.length && blockEnd(c, type) === -1) nextLine(c);
}
