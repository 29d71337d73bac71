/**
 * systemd unit files as text: quoting of command lines and values (systemd's own rules: `%`
 * specifiers, `$` variables in `Exec*=`, C escapes inside double quotes), sections in a fixed
 * order, and the dependencies (`After=`, `WantedBy=`, `PartOf=` ...) that the common shapes of
 * `start on` / `stop on` become. Pure: no Deno APIs.
 */

import type { Condition, Trigger } from "./events.ts";
import { isMultiUser, stopsAtShutdown } from "./events.ts";
import { unitName } from "./command.ts";
import type { Notes } from "./model.ts";

export type Entry = readonly [string, string];

export interface UnitText {
  /** Comment lines at the top (without `# `). */
  readonly comments: readonly string[];
  readonly sections: readonly (readonly [string, readonly Entry[]])[];
}

/** The unit file text; empty sections are left out. */
export function renderUnit(u: UnitText): string {
  const out = u.comments.map((c) => c ? `# ${c}` : "#");
  for (const [name, entries] of u.sections) {
    if (!entries.length) continue;
    if (out.length) out.push("");
    out.push(`[${name}]`, ...entries.map(([k, v]) => `${k}=${v}`));
  }
  return out.join("\n") + "\n";
}

function escapeChars(text: string, dollars: boolean): string {
  let s = "";
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === "\\") s += "\\\\";
    else if (ch === '"') s += '\\"';
    else if (ch === "\n") s += "\\n";
    else if (ch === "\t") s += "\\t";
    else if (ch === "\r") s += "\\r";
    else if (c < 0x20 || c === 0x7f) s += `\\x${c.toString(16).padStart(2, "0")}`;
    else if (ch === "%") s += "%%";
    else if (ch === "$" && dollars) s += "$$";
    else s += ch;
  }
  return s;
}

/** One word of an `Exec*=` line: literal to systemd (no specifier, no variable expansion). */
export function execWord(word: string): string {
  if (word === ";") return "\\;";
  if (/^[A-Za-z0-9_@+=:,./-]+$/.test(word)) return word;
  return `"${escapeChars(word, true)}"`;
}

/** An `Exec*=` value for an argv (the first word must not start with a systemd prefix). */
export function execLine(argv: readonly string[]): string {
  const [first = "", ...rest] = argv;
  const program = /^[-@+!:]/.test(first) ? `./${first}` : first;
  return [program, ...rest].map(execWord).join(" ");
}

/** `Environment=` value for one variable (`$` stays literal there). */
export function environmentValue(key: string, value: string): string {
  const kv = `${key}=${value}`;
  return /^[A-Za-z0-9_@+=:,./-]+$/.test(kv) ? kv : `"${escapeChars(kv, false)}"`;
}

/** A free-text value (Description=, paths, user names): specifiers escaped, one line. */
export function textValue(text: string): string {
  return text.replaceAll("%", "%%").replace(/[\r\n]+/g, " ");
}

/** Unit-level dependencies collected from `start on` / `stop on`. */
export interface Dependencies {
  readonly unit: Entry[];
  readonly install: Entry[];
}

const uniq = (xs: string[]) => [...new Set(xs)];

interface DepSets {
  after: string[];
  before: string[];
  wants: string[];
  partOf: string[];
  conflicts: string[];
  mounts: string[];
  wantedBy: string[];
  noDefaultDependencies: boolean;
}

function startTrigger(t: Trigger, d: DepSets, notes: Notes, tasks: ReadonlySet<string>): void {
  switch (t.kind) {
    case "runlevel":
      if (isMultiUser(t.levels)) {
        d.wantedBy.push(
          t.levels.replace(/[016S]/g, "") === "5" ? "graphical.target" : "multi-user.target",
        );
      } else if (/^[1S]+$/.test(t.levels)) {
        d.wantedBy.push("rescue.target");
      } else {
        notes.warn(
          "start on",
          `'runlevel' for halt or reboot only has no systemd counterpart here`,
        );
      }
      return;
    case "startup":
      d.noDefaultDependencies = true;
      d.wantedBy.push("sysinit.target");
      d.before.push("sysinit.target");
      return;
    case "filesystem":
      if (t.event !== "remote-filesystems") d.after.push("local-fs.target");
      if (t.event === "filesystem" || t.event === "remote-filesystems") {
        d.after.push("remote-fs.target");
      }
      if (t.event === "all-swaps") d.after.push("swap.target");
      d.wantedBy.push("multi-user.target");
      return;
    case "network":
      if (t.loopback) {
        d.after.push("network.target");
      } else {
        d.wants.push("network-online.target");
        d.after.push("network-online.target");
      }
      d.wantedBy.push("multi-user.target");
      return;
    case "mounted":
      d.mounts.push(t.path);
      d.wantedBy.push("multi-user.target");
      return;
    case "job": {
      const other = `${unitName(t.job)}.service`;
      if (t.relation === "started") {
        d.after.push(other);
        d.wantedBy.push(other);
      } else if (t.relation === "starting") {
        d.before.push(other);
        d.wantedBy.push(other);
      } else if (t.relation === "stopped") {
        d.after.push(other);
        d.wantedBy.push(other);
        if (!tasks.has(t.job)) {
          notes.warn(
            "start on",
            `'stopped ${t.job}' became After=${other} WantedBy=${other}: right when ${t.job} is a ` +
              `task (systemd has no "when a service stops")`,
          );
        }
      } else {
        notes.warn("start on", `'stopping ${t.job}' has no systemd counterpart`);
      }
      return;
    }
    case "unknown":
      notes.warn(
        "start on",
        `event '${t.text}' has no systemd counterpart: start the unit with systemctl start`,
      );
      return;
  }
}

function stopTrigger(t: Trigger, d: DepSets, notes: Notes): void {
  if (t.kind === "runlevel" && stopsAtShutdown(t.levels)) return; // systemd stops it at shutdown
  if (t.kind === "job" && (t.relation === "stopping" || t.relation === "stopped")) {
    d.partOf.push(`${unitName(t.job)}.service`);
    return;
  }
  if (t.kind === "job") {
    d.conflicts.push(`${unitName(t.job)}.service`);
    return;
  }
  const what = t.kind === "unknown" ? `event '${t.text}'` : `'${t.kind}'`;
  notes.warn("stop on", `${what} has no systemd counterpart: stop the unit with systemctl stop`);
}

/** The `[Unit]` and `[Install]` entries for a job's `start on` / `stop on`. */
export function dependencies(
  startOn: Condition | null,
  stopOn: Condition | null,
  notes: Notes,
  tasks: ReadonlySet<string>,
): Dependencies & { noDefaultDependencies: boolean } {
  const d: DepSets = {
    after: [],
    before: [],
    wants: [],
    partOf: [],
    conflicts: [],
    mounts: [],
    wantedBy: [],
    noDefaultDependencies: false,
  };
  if (startOn) {
    if (startOn.shape === "mixed") {
      notes.warn(
        "start on",
        `'${startOn.text}' mixes 'and' and 'or': each event became a dependency, not the condition`,
      );
    } else if (
      startOn.shape === "and" && startOn.triggers.filter((t) => t.kind === "job").length > 1
    ) {
      notes.info("start on", `'and' of several jobs: started with any of them, ordered after all`);
    }
    for (const t of startOn.triggers) startTrigger(t, d, notes, tasks);
  }
  if (stopOn) {
    if (stopOn.shape === "mixed") {
      notes.warn("stop on", `'${stopOn.text}' mixes 'and' and 'or': each event mapped on its own`);
    }
    for (const t of stopOn.triggers) stopTrigger(t, d, notes);
  }
  const unit: Entry[] = [];
  if (d.noDefaultDependencies) {
    unit.push(["DefaultDependencies", "no"], ["Conflicts", "shutdown.target"]);
    d.before.push("shutdown.target");
  }
  const list = (key: string, xs: string[]) => {
    const u = uniq(xs);
    if (u.length) unit.push([key, u.join(" ")]);
  };
  list("Wants", d.wants);
  list("After", d.after);
  list("Before", d.before);
  list("PartOf", d.partOf);
  list("Conflicts", d.conflicts);
  list("RequiresMountsFor", d.mounts);
  const wantedBy = uniq(d.wantedBy);
  return {
    unit,
    install: wantedBy.length ? [["WantedBy", wantedBy.join(" ")]] : [],
    noDefaultDependencies: d.noDefaultDependencies,
  };
}
