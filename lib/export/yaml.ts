/**
 * A small YAML writer for plain data (objects, arrays, strings, numbers, booleans, null), enough
 * for Kubernetes manifests: block style, keys in the order given, strings quoted whenever a YAML
 * 1.1 or 1.2 reader could take them for anything but a string, multi-line text as `|` literal
 * blocks. Same value, same bytes. Pure: no Deno APIs.
 */

export type YamlValue =
  | string
  | number
  | boolean
  | null
  | readonly YamlValue[]
  | { readonly [key: string]: YamlValue | undefined };

/** Words YAML 1.1 (go-yaml v2, used by kubectl) reads as booleans or null. */
const RESERVED = /^(?:y|yes|n|no|true|false|on|off|null|~)$/i;
const NUMBERISH = /^[-+.]?(?:\d|\.(?:inf|nan)$)|^0[xob]|^\.(?:inf|nan)$/i;

function plain(s: string): boolean {
  return /^[A-Za-z_/][A-Za-z0-9_./-]*$/.test(s) && !RESERVED.test(s) && !NUMBERISH.test(s);
}

function quoted(s: string): string {
  return JSON.stringify(s);
}

/** A literal block scalar for multi-line text, or null when the text does not suit one. */
function literal(s: string, indent: string): string | null {
  // deno-lint-ignore no-control-regex
  if (!s.includes("\n") || /[\x00-\x08\x0b-\x1f\x7f\u0085\u2028\u2029\ufeff]/.test(s)) return null;
  // A reader takes the indentation from the first line with text: it must not start with a blank.
  if (/^\n*[ \t]/.test(s) || /^\s*$/.test(s)) return null;
  const body = s.endsWith("\n") ? s.slice(0, -1) : s;
  const chomp = !s.endsWith("\n") ? "-" : body.endsWith("\n") ? "+" : "";
  if (/[ \t]\n|[ \t]$/.test(body)) return null; // trailing blanks: keep them visible in quotes
  const lines = body.split("\n").map((l) => l ? indent + l : "");
  return `|${chomp}\n${lines.join("\n")}`;
}

function scalar(v: string | number | boolean | null, indent: string): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : quoted(String(v));
  if (plain(v)) return v;
  return literal(v, indent) ?? quoted(v);
}

function isScalar(v: YamlValue): v is string | number | boolean | null {
  return v === null || typeof v !== "object";
}

function emit(v: YamlValue, indent: string, out: string[], lead: string): void {
  // `lead` is what precedes the value on its first line ("key:" or "-").
  if (isScalar(v)) {
    out.push(`${lead} ${scalar(v, indent + "  ")}`);
    return;
  }
  if (Array.isArray(v)) {
    if (!v.length) {
      out.push(`${lead} []`);
      return;
    }
    out.push(lead);
    for (const item of v) emitItem(item, indent + "  ", out);
    return;
  }
  const entries = Object.entries(v).filter(([, x]) => x !== undefined) as [string, YamlValue][];
  if (!entries.length) {
    out.push(`${lead} {}`);
    return;
  }
  out.push(lead);
  for (const [k, x] of entries) emit(x, indent + "  ", out, `${indent}  ${key(k)}:`);
}

function key(k: string): string {
  return plain(k) ? k : quoted(k);
}

/** An array item: `- scalar`, or a map whose first key sits on the dash line. */
function emitItem(item: YamlValue, indent: string, out: string[]): void {
  if (isScalar(item) || Array.isArray(item)) {
    emit(item, indent + "  ", out, `${indent}-`);
    return;
  }
  const entries = Object.entries(item).filter(([, x]) => x !== undefined) as [string, YamlValue][];
  if (!entries.length) {
    out.push(`${indent}- {}`);
    return;
  }
  const start = out.length;
  for (const [k, x] of entries) emit(x, indent + "  ", out, `${indent}  ${key(k)}:`);
  out[start] = `${indent}- ${out[start]!.slice(indent.length + 2)}`;
}

/** One YAML document for a map (no `---`), ending with a newline. */
export function toYaml(doc: { readonly [key: string]: YamlValue | undefined }): string {
  const out: string[] = [];
  for (const [k, x] of Object.entries(doc)) {
    if (x !== undefined) emit(x, "", out, `${key(k)}:`);
  }
  return out.join("\n") + "\n";
}
