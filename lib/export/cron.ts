/**
 * Cron schedules (Vixie cron / cronie, as Debian runs them): the five fields `minute hour
 * day-of-month month day-of-week` with `*`, lists, ranges, steps and English names, the `@daily`
 * family, and `@reboot`; and their systemd `OnCalendar=` form, which keeps cron's rule that a day
 * matches when EITHER day field matches if neither begins with `*`. Pure: no Deno APIs.
 */

export interface CronField {
  /** As written. */
  readonly text: string;
  /** Begins with `*` (cron's rule for combining the two day fields). */
  readonly star: boolean;
  /** Every value the field matches, ascending (day of week: 0-6, Sunday 0). */
  readonly values: readonly number[];
  readonly items: readonly CronItem[];
}

interface CronItem {
  readonly from: number;
  readonly to: number;
  readonly step: number;
  readonly star: boolean;
}

export type CronSchedule =
  | {
    readonly kind: "fields";
    /** The five fields joined by single spaces (the `@daily` family expanded). */
    readonly text: string;
    /** What the line said (`@daily` or the five fields). */
    readonly written: string;
    readonly fields: readonly [CronField, CronField, CronField, CronField, CronField];
  }
  | { readonly kind: "reboot"; readonly text: "@reboot"; readonly written: "@reboot" };

const SPECIAL: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const SYSTEMD_DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

interface FieldSpec {
  readonly what: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Value of the first name (months count from 1, days from 0). */
  readonly nameBase?: number;
}

const FIELDS: readonly FieldSpec[] = [
  { what: "minute", min: 0, max: 59 },
  { what: "hour", min: 0, max: 23 },
  { what: "day of month", min: 1, max: 31 },
  { what: "month", min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { what: "day of week", min: 0, max: 7, names: DAYS, nameBase: 0 },
];

function value(text: string, spec: FieldSpec): number | null {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= spec.min && n <= spec.max ? n : null;
  }
  const i = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  return i >= 0 ? i + (spec.nameBase ?? 0) : null;
}

/** One field, or an error message. */
export function parseCronField(text: string, spec: FieldSpec): CronField | { error: string } {
  const items: CronItem[] = [];
  const bad = { error: `Bad ${spec.what} '${text}'` };
  for (const part of text.split(",")) {
    const m = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(part);
    if (!m) return bad;
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1 || step > spec.max) return bad;
    if (m[1] === "*") {
      items.push({ from: spec.min, to: spec.max, step, star: true });
      continue;
    }
    const [a, b] = m[1]!.split("-");
    const from = value(a!, spec);
    const to = b === undefined ? from : value(b, spec);
    if (from === null || to === null || to < from) return bad;
    if (m[2] !== undefined && b === undefined) return bad; // `5/10` is not Vixie cron
    items.push({ from, to, step, star: false });
  }
  const set = new Set<number>();
  for (const it of items) {
    for (let v = it.from; v <= it.to; v += it.step) {
      set.add(spec.what === "day of week" ? v % 7 : v);
    }
  }
  return { text, star: text.startsWith("*"), values: [...set].sort((x, y) => x - y), items };
}

/** A schedule as written on a crontab line (`@daily`, or five fields), or an error message. */
export function parseCronSchedule(words: readonly string[]): CronSchedule | { error: string } {
  if (words.length === 1 && words[0] === "@reboot") {
    return { kind: "reboot", text: "@reboot", written: "@reboot" };
  }
  let fieldsText = words;
  if (words.length === 1 && words[0]!.startsWith("@")) {
    const expanded = SPECIAL[words[0]!.toLowerCase()];
    if (!expanded) return { error: `Unknown schedule '${words[0]}'` };
    fieldsText = expanded.split(" ");
  }
  if (fieldsText.length !== 5) return { error: `Expected five schedule fields` };
  const fields: CronField[] = [];
  for (let i = 0; i < 5; i++) {
    const f = parseCronField(fieldsText[i]!, FIELDS[i]!);
    if ("error" in f) return f;
    fields.push(f);
  }
  return {
    kind: "fields",
    text: fieldsText.join(" "),
    written: words.join(" "),
    fields: fields as unknown as readonly [CronField, CronField, CronField, CronField, CronField],
  };
}

/**
 * One field (not day of week) in systemd's calendar syntax. Steps are written as lists: systemd
 * 252 skips the first value of a `0/7` repetition when the next elapse crosses midnight.
 */
function systemdField(f: CronField): string {
  if (f.items.some((it) => it.star && it.step === 1)) return "*";
  const parts: string[] = [];
  for (const it of f.items) {
    if (it.from === it.to) parts.push(String(it.from));
    else if (it.step === 1) parts.push(`${it.from}..${it.to}`);
    else for (let v = it.from; v <= it.to; v += it.step) parts.push(String(v));
  }
  return parts.join(",");
}

/** Days of week as systemd names, Monday first, runs of three or more as `Mon..Fri`. */
function systemdDays(values: readonly number[]): string {
  const order = [1, 2, 3, 4, 5, 6, 0].filter((d) => values.includes(d));
  const pos = (d: number) => (d + 6) % 7;
  const out: string[] = [];
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && pos(order[j + 1]!) === pos(order[j]!) + 1) j++;
    const [a, b] = [SYSTEMD_DAYS[order[i]!]!, SYSTEMD_DAYS[order[j]!]!];
    if (j - i >= 2) out.push(`${a}..${b}`);
    else for (let k = i; k <= j; k++) out.push(SYSTEMD_DAYS[order[k]!]!);
    i = j + 1;
  }
  return out.join(",");
}

/**
 * `OnCalendar=` values for a five-field schedule (two when both day fields are restricted, since
 * cron then runs on either), each followed by ` TZ` when a time zone is given.
 */
export function onCalendar(
  s: Extract<CronSchedule, { kind: "fields" }>,
  timeZone: string | null = null,
): string[] {
  const [minute, hour, dom, month, dow] = s.fields;
  const time = `${systemdField(hour)}:${systemdField(minute)}:00`;
  const date = (day: string) => `*-${systemdField(month)}-${day}`;
  const weekdays = dow.values.length === 7 ? "" : `${systemdDays(dow.values)} `;
  const tz = timeZone ? ` ${timeZone}` : "";
  if (!dom.star && !dow.star) {
    return [
      `${date(systemdField(dom))} ${time}${tz}`,
      `${weekdays}${date("*")} ${time}${tz}`,
    ];
  }
  return [`${weekdays}${date(systemdField(dom))} ${time}${tz}`];
}

/** True when a five-field schedule matches the minute of `t` (its UTC fields), cron's way. */
export function cronMatches(s: Extract<CronSchedule, { kind: "fields" }>, t: Date): boolean {
  const [minute, hour, dom, month, dow] = s.fields;
  const has = (f: CronField, v: number) => f.values.includes(v);
  if (!has(minute, t.getUTCMinutes()) || !has(hour, t.getUTCHours())) return false;
  if (!has(month, t.getUTCMonth() + 1)) return false;
  const d = has(dom, t.getUTCDate()), w = has(dow, t.getUTCDay());
  return dom.star || dow.star ? d && w : d || w;
}
