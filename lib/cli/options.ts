/**
 * A small long-option parser for the daemon's command line (`--name VALUE`, `--name=VALUE`,
 * repeatable options, boolean flags). The daemon avoids `node:util` on purpose: loading Deno's
 * Node compatibility layer costs about 5 MB of memory for the daemon's whole life. Pure.
 */

export interface OptionSpec {
  readonly [name: string]: {
    readonly type: "string" | "boolean";
    readonly multiple?: boolean;
    readonly short?: string;
  };
}

/** The options of `upkeep daemon` (the watchdog passes them on to the daemon it starts). */
export const DAEMON_OPTIONS = {
  "conf-dir": { type: "string", multiple: true },
  "state-dir": { type: "string" },
  "log-dir": { type: "string" },
  socket: { type: "string" },
  runlevel: { type: "string" },
  /** As Upstart's init: emit this event alone at start instead of the boot events. */
  "startup-event": { type: "string" },
  /** As Upstart's init: emit no event at start. */
  "no-startup-event": { type: "boolean" },
  debug: { type: "boolean" },
  /** As Upstart's init --verbose: goal and state changes in the log (the same as --debug here). */
  verbose: { type: "boolean", short: "v" },
  "log-size": { type: "string" },
  "log-keep": { type: "string" },
  "log-max-age": { type: "string" },
  "log-timestamps": { type: "string" },
  "log-markers": { type: "boolean" },
  "log-compress": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export type OptionValues = Record<string, string | string[] | boolean | undefined>;

/** Parse `args`; throws Error("...") with a one-line reason for unknown options or missing values. */
export function parseOptions(args: readonly string[], spec: OptionSpec): OptionValues {
  const values: OptionValues = {};
  const shorts = new Map(
    Object.entries(spec).filter(([, s]) => s.short).map(([n, s]) => [s.short!, n]),
  );
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else if (/^-[A-Za-z]$/.test(arg)) {
      name = shorts.get(arg.slice(1));
      if (name === undefined) throw new Error(`unknown option '${arg}'`);
    } else {
      throw new Error(`unexpected argument '${arg}'`);
    }
    const s = spec[name];
    if (!s) throw new Error(`unknown option '--${name}'`);
    if (s.type === "boolean") {
      if (inline !== undefined) throw new Error(`option '--${name}' takes no value`);
      values[name] = true;
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined) throw new Error(`option '--${name}' needs a value`);
    if (s.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), value];
    else values[name] = value;
  }
  return values;
}
