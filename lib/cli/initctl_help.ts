/**
 * initctl's help: `initctl --help` / `initctl help` (every command), and `initctl COMMAND --help`
 * (`start --help` by program name): the command's usage line as Upstart's initctl prints it, what
 * it does, and its options. The words are upkeep's own. Pure: no Deno APIs.
 */

import { COMMAND_OPTIONS } from "./initctl_args.ts";
import { DEFAULT_TIMEOUT_S } from "./initctl.ts";

export const HELP = `Usage: initctl [OPTION]... COMMAND [OPTION]... [ARG]...

Job commands:
  start JOB [KEY=VALUE]...     start a job (-n, --no-wait: do not wait for it)
  stop JOB [KEY=VALUE]...      stop a job (-n, --no-wait)
  restart JOB [KEY=VALUE]...   restart a job (-n, --no-wait)
  reload JOB [KEY=VALUE]...    send the job's reload signal to its main process
  status JOB [KEY=VALUE]...    show a job's status (--json: as JSON; --json alone: every job)
  list                         list every job and instance (--json: as JSON)

Event commands:
  emit EVENT [KEY=VALUE]...    emit an event and wait until it is handled (-n, --no-wait)

Environment commands (inside a job they act on its own environment unless -g, --global):
  get-env VARIABLE             print a variable of the job environment
  set-env VARIABLE[=VALUE]     set a variable (-r, --retain: keep a value already set)
  unset-env VARIABLE           remove a variable
  list-env                     print every variable, sorted
  reset-env                    back to the daemon's initial environment

Other commands:
  reload-configuration         re-read the job files
  version                      show the daemon's version
  log-priority [PRIORITY]      show or set the daemon's log priority
  show-config [-e] [JOB]       show emits, start on and stop on of one job or every job
  check-config [JOB]           list conditions no job or event can satisfy (-i LIST, -w)
  usage JOB                    show a job's usage text
  reexec                       restart the daemon in place, every job kept (telinit u)
  help                         show this help

${globalOptions("Options (before the command; the command's own options come after it):")}`;

/** Each command's arguments (as in its usage line) and what it does. */
const COMMANDS: Readonly<Record<string, readonly [string, string]>> = {
  start: ["JOB [KEY=VALUE]...", "Start a job (or one instance of it) and wait until it runs."],
  stop: ["JOB [KEY=VALUE]...", "Stop a job (or one instance of it) and wait until it stopped."],
  restart: ["JOB [KEY=VALUE]...", "Stop a job and start it again."],
  reload: ["JOB [KEY=VALUE]...", "Send the job's reload signal (HUP) to its main process."],
  status: ["JOB [KEY=VALUE]...", "Show the goal, state and processes of a job."],
  list: ["", "Show the status of every job and instance."],
  emit: ["EVENT [KEY=VALUE]...", "Emit an event and wait until the jobs it changes settle."],
  "reload-configuration": ["", "Read the job files again."],
  version: ["", "Show the version of the daemon."],
  "log-priority": ["[PRIORITY]", "Show or set the lowest priority of messages the daemon logs."],
  "show-config": ["[CONF]", "Show the emits, start on and stop on of job files."],
  "check-config": ["[CONF]", "Show conditions that no job or event can satisfy."],
  usage: ["JOB", "Show the usage text of a job."],
  "get-env": ["VARIABLE", "Show a variable of the job environment."],
  "set-env": ["VARIABLE[=VALUE]...", "Set variables of the job environment."],
  "unset-env": ["VARIABLE...", "Remove variables from the job environment."],
  "list-env": ["", "Show every variable of the job environment."],
  "reset-env": ["", "Undo every change made to the job environment."],
  "list-sessions": ["", "List user sessions (upkeep has none)."],
  "notify-disk-writeable": ["", "Accepted for Upstart's sake; upkeep writes logs at once."],
  "notify-dbus-address": ["ADDRESS", "Accepted for Upstart's sake; upkeep uses no D-Bus."],
  "notify-cgroup-manager-address": ["ADDRESS", "Accepted for Upstart's sake."],
  reexec: ["", "Restart the daemon in place, keeping every job (telinit u)."],
  help: ["", "Show the list of commands."],
};

/** What each option does, by long name. */
const OPTION_WORDS: Readonly<Record<string, string>> = {
  "no-wait": "do not wait for the job or event",
  global: "act on the global job environment, also inside a job",
  retain: "keep a value that is already set",
  json: "answer in JSON (status without a job: every job)",
  enumerate: "one line per event of each condition",
  "ignore-events": "events (comma-separated) to take as known",
  warn: "report every unknown job and event, also on a side of an or",
};

function globalOptions(title: string): string {
  return `${title}
  --socket PATH   the daemon's control socket (default: $UPKEEP_SOCKET, else the daemon's default)
  --timeout SECS  give up when the daemon says nothing for SECS seconds (default ${DEFAULT_TIMEOUT_S};
                  0: wait for ever; a daemon waiting for a job says so every 5 s)
  --system, --session, --user, --dest=NAME
                  accepted for Upstart's sake (upkeep has no D-Bus)
  -q, --quiet     no output on success
  -v, --verbose   accepted, no effect
  --help          show this help
  --version       show initctl's version`;
}

/** `initctl COMMAND --help` (`PROGRAM --help` for start, stop ...: `program` is the command). */
export function commandHelp(command: string, program: string): string {
  const [args, what] = COMMANDS[command] ?? ["", ""];
  const name = program === "initctl" ? `initctl ${command}` : program;
  const own = (COMMAND_OPTIONS[command] ?? []).map((o) => {
    const flags = `${o.short ? `-${o.short}, ` : "    "}--${o.long}${o.value ? "=VALUE" : ""}`;
    return `  ${flags.padEnd(24)}${OPTION_WORDS[o.long] ?? ""}`;
  });
  return [
    `Usage: ${name} [OPTION]...${args ? ` ${args}` : ""}`,
    what,
    "",
    ...(own.length ? ["Options:", ...own, ""] : []),
    globalOptions("Options of every command:"),
  ].join("\n");
}
