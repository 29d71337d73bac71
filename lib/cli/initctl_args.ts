/**
 * initctl's command line, parsed as Upstart's initctl parses it (libnih's command and option
 * parser): global options before the command, the command, then the command's own options anywhere
 * among its arguments (`--` ends options; an option that takes a value takes the next argument that
 * is not an option). `initctl --no-wait start a` is an invalid option, as in Upstart; `start -n a`
 * and `start a -n` both work. Invoked as `start`, `stop` ..., the program name is the command.
 * Pure: no Deno APIs; the environment is passed in.
 *
 * upkeep's additions: `--socket PATH` and `--timeout SECS` (anywhere), `--json` for `status` and
 * `list`.
 */

import type { RequestOptions } from "../control/protocol.ts";

/** Options that change the request sent to the daemon. */
export type Options = { -readonly [K in keyof RequestOptions]: RequestOptions[K] };

export interface OptionSpec {
  readonly short?: string;
  readonly long: string;
  /** Takes a value (`--dest=NAME`, `--dest NAME`, `-iLIST`, `-i LIST`). */
  readonly value?: boolean;
  /** Applies the option; a string is a usage error. */
  readonly apply: (p: Parsed, value: string) => void | string;
}

export interface Parsed {
  command: string;
  args: string[];
  options: Options;
  quiet: boolean;
  socket: string | null;
  /** `--timeout SECS` (upkeep): seconds of daemon silence before giving up; 0 waits for ever. */
  timeoutS?: number;
}

export type ParseResult =
  | { readonly kind: "run"; readonly parsed: Parsed }
  /** Print on stdout and exit 0 (--help, --version, help); `COMMAND --help` names the command. */
  | { readonly kind: "print"; readonly what: "help" | "version"; readonly command?: string }
  /** Print `PROGRAM: message` and the `Try ... --help` line on stderr, exit 1. */
  | { readonly kind: "usage"; readonly message: string };

/** An option without a value; `set` never fails. */
const flag = (short: string | undefined, long: string, set: (p: Parsed) => unknown): OptionSpec => {
  const apply = (p: Parsed) => void set(p);
  return short ? { short, long, apply } : { long, apply };
};

const NO_WAIT = flag("n", "no-wait", (p) => p.options.noWait = true);
const GLOBAL_ENV = flag("g", "global", (p) => p.options.global = true);
const JSON_OUT = flag(undefined, "json", (p) => p.options.json = true);

/** Options every command accepts (Upstart's global options, libnih's defaults, --socket). */
const GLOBAL: readonly OptionSpec[] = [
  flag(undefined, "session", () => {}),
  flag(undefined, "system", () => {}),
  { long: "dest", value: true, apply: () => {} },
  flag(undefined, "user", () => {}),
  flag("q", "quiet", (p) => p.quiet = true),
  flag("v", "verbose", () => {}),
  flag(undefined, "help", () => {}),
  flag(undefined, "version", () => {}),
  { long: "socket", value: true, apply: (p, v) => void (p.socket = v) },
  {
    long: "timeout",
    value: true,
    apply: (p, v) => {
      if (!/^\d+(\.\d+)?$/.test(v)) return "option '--timeout' needs seconds";
      p.timeoutS = Number(v);
    },
  },
];

/** Each command and its own options. */
export const COMMAND_OPTIONS: Readonly<Record<string, readonly OptionSpec[]>> = {
  start: [NO_WAIT],
  stop: [NO_WAIT],
  restart: [NO_WAIT],
  reload: [],
  status: [JSON_OUT],
  list: [JSON_OUT],
  emit: [NO_WAIT],
  "reload-configuration": [],
  version: [],
  "log-priority": [],
  "show-config": [flag("e", "enumerate", (p) => p.options.enumerate = true)],
  "check-config": [
    {
      short: "i",
      long: "ignore-events",
      value: true,
      apply: (p, v) => {
        const list = v.split(",").map((e) => e.trim()).filter(Boolean);
        p.options.ignoreEvents = [...(p.options.ignoreEvents ?? []), ...list];
      },
    },
    flag("w", "warn", (p) => p.options.warn = true),
  ],
  "get-env": [GLOBAL_ENV],
  "list-env": [GLOBAL_ENV],
  "reset-env": [GLOBAL_ENV],
  "set-env": [GLOBAL_ENV, flag("r", "retain", (p) => p.options.retain = true)],
  "unset-env": [GLOBAL_ENV],
  usage: [],
  "notify-cgroup-manager-address": [],
  "notify-dbus-address": [],
  "notify-disk-writeable": [],
  "list-sessions": [],
  /** upkeep: the daemon re-executes itself in place (Upstart's `telinit u`). */
  reexec: [],
  help: [],
};

const SHORTCUTS = new Set(["start", "stop", "restart", "reload", "status"]);

/** Parse `argv` (without the program) as `program` would. */
export function parseInitctlArgs(argv: readonly string[], program: string): ParseResult {
  const p: Parsed = { command: "", args: [], options: {}, quiet: false, socket: null };
  let rest: readonly string[];
  if (SHORTCUTS.has(program)) {
    p.command = program;
    rest = argv;
  } else {
    const global = parseOptions(argv, GLOBAL, p, true);
    if (global.kind !== "args") return global.result;
    const [command, ...after] = global.args;
    if (command === undefined) return { kind: "usage", message: "missing command" };
    if (!(command in COMMAND_OPTIONS)) {
      return { kind: "usage", message: `invalid command: ${command}` };
    }
    p.command = command;
    rest = after;
  }
  const options = [...COMMAND_OPTIONS[p.command]!, ...GLOBAL];
  const parsed = parseOptions(rest, options, p, false);
  if (parsed.kind !== "args") return parsed.result;
  p.args = parsed.args;
  if (p.command === "help") return { kind: "print", what: "help" };
  return { kind: "run", parsed: p };
}

type OptionsOutcome =
  | { readonly kind: "args"; readonly args: string[] }
  | { readonly kind: "stop"; readonly result: ParseResult };

/**
 * libnih's option parser over `argv`: options are applied to `p`, the other arguments returned in
 * order. With `stopAtFirst`, everything from the first non-option on is an argument.
 */
function parseOptions(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  p: Parsed,
  stopAtFirst: boolean,
): OptionsOutcome {
  const args: string[] = [];
  const taken = new Set<number>();
  let optEnd = -1;
  const stop = (result: ParseResult): OptionsOutcome => ({ kind: "stop", result });
  const usage = (message: string) => stop({ kind: "usage", message });
  /** The next argument after `i` that is not an option, for an option's value. */
  const nextValue = (i: number): string | null => {
    for (let j = i + 1; j < argv.length; j++) {
      if (taken.has(j)) continue;
      const a = argv[j]!;
      if (!a.startsWith("-") || (optEnd >= 0 && j > optEnd)) {
        taken.add(j);
        return a;
      }
      if (a === "--") optEnd = j;
    }
    return null;
  };
  const handle = (spec: OptionSpec, i: number, typed: string): OptionsOutcome | null => {
    if (spec.long === "help") {
      const command = p.command === "" || p.command === "help" ? {} : { command: p.command };
      return stop({ kind: "print", what: "help", ...command });
    }
    if (spec.long === "version") return stop({ kind: "print", what: "version" });
    const v = spec.value ? nextValue(i) : "";
    if (v === null) return usage(`missing argument: ${typed}`);
    const problem = spec.apply(p, v);
    return problem ? usage(problem) : null;
  };
  for (let i = 0; i < argv.length; i++) {
    if (taken.has(i)) continue;
    const a = argv[i]!;
    if (!a.startsWith("-") || a === "-" || (optEnd >= 0 && i > optEnd)) {
      args.push(a);
      if (stopAtFirst && optEnd < 0) optEnd = i;
      continue;
    }
    if (a === "--") {
      optEnd = i;
      continue;
    }
    if (a.startsWith("--")) {
      const body = a.slice(2);
      const eq = body.indexOf("=");
      const name = eq < 0 ? body : body.slice(0, eq);
      const spec = specs.find((s) => s.long === name);
      if (!spec) return usage(`invalid option: --${body}`);
      if (eq >= 0) {
        if (!spec.value) return usage(`unexpected argument: --${body}`);
        const problem = spec.apply(p, body.slice(eq + 1));
        if (problem) return usage(problem);
        continue;
      }
      const out = handle(spec, i, a);
      if (out) return out;
      continue;
    }
    // A bundle of short options; one that takes a value, first in the bundle, takes the rest.
    for (let k = 1; k < a.length; k++) {
      const c = a[k]!;
      const spec = specs.find((s) => s.short === c);
      if (!spec) return usage(`invalid option: -${c}`);
      if (spec.value && k === 1 && a.length > 2) {
        const problem = spec.apply(p, a.slice(2));
        if (problem) return usage(problem);
        break;
      }
      const out = handle(spec, i, a);
      if (out) return out;
    }
  }
  return { kind: "args", args };
}

/** The calling job (UPSTART_JOB and UPSTART_INSTANCE both set), as Upstart's initctl reads it. */
export function callingJob(
  env: (name: string) => string | undefined,
): { job: string; instance: string } | null {
  const job = env("UPSTART_JOB");
  const instance = env("UPSTART_INSTANCE");
  return job !== undefined && instance !== undefined ? { job, instance } : null;
}

/**
 * Checks Upstart's initctl makes before it talks to init; null when the command may go on. Sets
 * `self` (job commands without a job name, inside a job) and the job of env commands.
 */
export function checkArguments(
  p: Parsed,
  env: (name: string) => string | undefined,
): string | null {
  const [first] = p.args;
  switch (p.command) {
    case "start":
    case "stop":
    case "restart":
    case "reload":
    case "status":
    case "usage":
      if (first === undefined) {
        const self = callingJob(env);
        // upkeep: `status --json` without a job name lists every job as JSON.
        if (!self && p.command === "status" && p.options.json) return null;
        if (!self) return "missing job name";
        p.options.self = self;
      }
      return null;
    case "emit":
      return first === undefined ? "missing event name" : null;
    case "notify-dbus-address":
      return first === undefined ? "missing D-Bus address" : null;
    case "notify-cgroup-manager-address":
      return first === undefined ? "missing address" : null;
    case "get-env":
    case "unset-env":
    case "set-env":
    case "list-env":
    case "reset-env": {
      if (first === undefined && (p.command === "get-env" || p.command === "unset-env")) {
        return "missing variable name";
      }
      if (first === undefined && p.command === "set-env") return "missing variable value";
      if (!p.options.global && env("UPSTART_JOB") !== undefined) {
        const self = callingJob(env);
        if (!self) return "missing job name";
        p.options.job = self.job;
        p.options.instance = self.instance;
      }
      return null;
    }
    default:
      return null;
  }
}
