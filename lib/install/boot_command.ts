/**
 * Read back the command a boot would run from an artifact `upkeep install` wrote: the systemd
 * unit's `ExecStart=`, the OpenRC script's `command` + `command_args`, the inittab line's process
 * field, and the cron lines (`@reboot` and the every-minute watchdog). Used by doctor and by the
 * simulated-reboot tests. Pure: no Deno APIs.
 */

import { splitShellWords } from "./shell_words.ts";

/** `ExecStart=` of a unit file, split into words (`%%` unescaped); null when absent. */
export function systemdExecStart(unit: string): string[] | null {
  const line = unit.split("\n").find((l) => l.startsWith("ExecStart="));
  if (!line) return null;
  return splitShellWords(line.slice("ExecStart=".length).replace(/^[-@:+!]+/, ""))
    ?.map((w) => w.replaceAll("%%", "%")) ?? null;
}

/** The value of a `NAME="..."` (or `NAME=word`) assignment in a shell script; null when absent. */
function shellAssignment(script: string, name: string): string | null {
  const line = script.split("\n").find((l) => l.startsWith(`${name}=`));
  if (!line) return null;
  return splitShellWords(line.slice(name.length + 1))?.join(" ") ?? null;
}

/** `command` followed by the words of `command_args` in an OpenRC script; null when absent. */
export function openrcCommand(script: string): string[] | null {
  const command = shellAssignment(script, "command");
  if (!command) return null;
  const args = splitShellWords(shellAssignment(script, "command_args") ?? "");
  return args ? [command, ...args] : null;
}

/** One inittab entry. */
export interface InittabEntry {
  readonly id: string;
  readonly runlevels: string;
  readonly action: string;
  readonly process: string;
}

/** Parse an inittab line (`id:runlevels:action:process`); null for comments and blank lines. */
export function parseInittabLine(line: string): InittabEntry | null {
  if (/^\s*(#|$)/.test(line)) return null;
  const parts = line.split(":");
  if (parts.length < 4) return null;
  return {
    id: parts[0]!,
    runlevels: parts[1]!,
    action: parts[2]!,
    process: parts.slice(3).join(":"),
  };
}

/** The argv of the first inittab entry whose process runs `upkeep daemon`; null when none. */
export function inittabCommand(inittab: string): string[] | null {
  for (const line of inittab.split("\n")) {
    const e = parseInittabLine(line);
    if (!e) continue;
    const argv = splitShellWords(e.process.replace(/^[-+]/, ""));
    if (argv && isUpkeep(argv, "daemon")) return argv;
  }
  return null;
}

/** The cron lines that run upkeep: the `@reboot` one and the periodic (watchdog) one. */
export interface CronCommands {
  readonly reboot: string[] | null;
  readonly watchdog: string[] | null;
}

/**
 * The commands of upkeep's cron lines. `withUser` for cron.d / system crontab lines, which carry a
 * user field after the schedule.
 */
export function cronCommands(crontab: string, withUser: boolean): CronCommands {
  let reboot: string[] | null = null;
  let watchdog: string[] | null = null;
  for (const raw of crontab.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || /^[A-Za-z_][A-Za-z0-9_]*=/.test(line)) continue;
    const fields = line.split(/\s+/);
    const scheduleLen = line.startsWith("@") ? 1 : 5;
    const cmdStart = scheduleLen + (withUser ? 1 : 0);
    // Re-find the command text after the schedule (and user) fields, keeping its own spacing.
    let rest = line;
    for (let i = 0; i < cmdStart; i++) rest = rest.replace(/^\S+\s+/, "");
    if (fields.length <= cmdStart) continue;
    const argv = splitShellWords(rest.replaceAll("\\%", "%"));
    if (!argv || !isUpkeep(argv, "watchdog")) continue;
    if (fields[0] === "@reboot") reboot ??= argv;
    else watchdog ??= argv;
  }
  return { reboot, watchdog };
}

/** True when argv runs an `upkeep` binary (or launcher) with `subcommand`. */
function isUpkeep(argv: readonly string[], subcommand: string): boolean {
  const bin = argv[0] ?? "";
  return /(^|\/)upkeep[^/]*$/.test(bin) && argv[1] === subcommand;
}

/** Prefix every absolute path word of argv with `root` (for running a boot command in a tree). */
export function mapIntoRoot(argv: readonly string[], root: string): string[] {
  return argv.map((w) => (w.startsWith("/") ? `${root.replace(/\/+$/, "")}${w}` : w));
}
