/**
 * A Nomad job, as exported, and its two written forms: the HCL job specification (`nomad job run
 * NAME.nomad.hcl`) and the JSON the HTTP API takes (`{"Job": ...}`, for `nomad job run -json` or
 * `POST /v1/jobs`), durations in nanoseconds there. Pure: no Deno APIs.
 */

export interface NomadCheck {
  readonly name: string;
  readonly type: "http" | "tcp" | "script";
  readonly path?: string;
  readonly protocol?: "http" | "https";
  readonly portLabel?: string;
  readonly command?: string;
  readonly args?: readonly string[];
  /** Seconds. */
  readonly interval: number;
  readonly timeout: number;
  readonly checkRestart?: { readonly limit: number; readonly grace: number };
}

export interface NomadTask {
  readonly name: string;
  readonly driver: "raw_exec" | "exec";
  readonly hook?: "prestart" | "poststart" | "poststop";
  readonly user?: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: readonly (readonly [string, string])[];
  readonly memoryMB?: number;
  /** Seconds. */
  readonly killTimeout: number;
  readonly killSignal: string;
  readonly service?: {
    readonly name: string;
    readonly provider: "nomad" | "consul";
    readonly checks: readonly NomadCheck[];
  };
}

export interface NomadJob {
  readonly id: string;
  readonly type: "service" | "batch";
  readonly periodic?: {
    readonly cron: string;
    readonly prohibitOverlap: boolean;
    readonly timeZone?: string;
  };
  readonly group: {
    readonly name: string;
    readonly count: number;
    readonly ports: readonly { readonly label: string; readonly value: number }[];
    readonly restart: {
      readonly attempts: number;
      readonly interval: number;
      readonly delay: number;
      readonly mode: "fail" | "delay";
    };
    /** Disabled (attempts 0, not unlimited), or unlimited with a constant delay. */
    readonly reschedule: { readonly unlimited: false } | {
      readonly unlimited: true;
      readonly delay: number;
    };
    readonly tasks: readonly NomadTask[];
  };
}

const NS = 1e9;
const ns = (seconds: number) => Math.round(seconds * NS);

/** The API form: `{"Job": {...}}` with Nomad's field names. */
export function nomadApiJson(j: NomadJob): Record<string, unknown> {
  const g = j.group;
  return {
    Job: {
      ID: j.id,
      Name: j.id,
      Type: j.type,
      Datacenters: ["*"],
      Periodic: j.periodic
        ? {
          Enabled: true,
          Spec: j.periodic.cron,
          SpecType: "cron",
          ProhibitOverlap: j.periodic.prohibitOverlap,
          TimeZone: j.periodic.timeZone,
        }
        : undefined,
      TaskGroups: [{
        Name: g.name,
        Count: g.count,
        Networks: g.ports.length
          ? [{ ReservedPorts: g.ports.map((p) => ({ Label: p.label, Value: p.value })) }]
          : undefined,
        RestartPolicy: {
          Attempts: g.restart.attempts,
          Interval: ns(g.restart.interval),
          Delay: ns(g.restart.delay),
          Mode: g.restart.mode,
        },
        ReschedulePolicy: g.reschedule.unlimited
          ? { Unlimited: true, Delay: ns(g.reschedule.delay), DelayFunction: "constant" }
          : { Attempts: 0, Unlimited: false },
        Tasks: g.tasks.map((t) => ({
          Name: t.name,
          Driver: t.driver,
          User: t.user,
          Lifecycle: t.hook ? { Hook: t.hook, Sidecar: false } : undefined,
          Config: { command: t.command, args: [...t.args] },
          Env: t.env.length ? Object.fromEntries(t.env) : undefined,
          Resources: t.memoryMB === undefined ? undefined : { MemoryMB: t.memoryMB },
          KillTimeout: ns(t.killTimeout),
          KillSignal: t.killSignal,
          Services: t.service
            ? [{
              Name: t.service.name,
              Provider: t.service.provider,
              Checks: t.service.checks.map((c) => ({
                Name: c.name,
                Type: c.type,
                Path: c.path,
                Protocol: c.protocol,
                PortLabel: c.portLabel,
                Command: c.command,
                Args: c.args ? [...c.args] : undefined,
                Interval: ns(c.interval),
                Timeout: ns(c.timeout),
                CheckRestart: c.checkRestart
                  ? {
                    Limit: c.checkRestart.limit,
                    Grace: ns(c.checkRestart.grace),
                    IgnoreWarnings: false,
                  }
                  : undefined,
              })),
            }]
            : undefined,
        })),
      }],
    },
  };
}

/** An HCL string literal: escapes, and `${` / `%{` kept literal (`$${`, `%%{`). */
export function hclString(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const c = ch.charCodeAt(0);
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else if ((ch === "$" || ch === "%") && s[i + 1] === "{") out += ch + ch;
    else out += ch;
  }
  return `"${out}"`;
}

const seconds = (s: number) => hclString(`${Number(s.toFixed(3))}s`);

class Hcl {
  readonly lines: string[] = [];
  #depth = 0;
  attr(key: string, value: string | number | boolean | undefined): void {
    if (value === undefined) return;
    const v = typeof value === "string" ? value : String(value);
    this.lines.push(`${"  ".repeat(this.#depth)}${key} = ${v}`);
  }
  open(head: string): void {
    this.lines.push(`${"  ".repeat(this.#depth)}${head} {`);
    this.#depth++;
  }
  close(): void {
    this.#depth--;
    this.lines.push(`${"  ".repeat(this.#depth)}}`);
  }
}

const list = (xs: readonly string[]) => `[${xs.map(hclString).join(", ")}]`;

/** The HCL job specification (comment lines first). */
export function nomadHcl(j: NomadJob, comments: readonly string[]): string {
  const h = new Hcl();
  const g = j.group;
  h.open(`job ${hclString(j.id)}`);
  h.attr("type", hclString(j.type));
  h.attr("datacenters", list(["*"]));
  if (j.periodic) {
    h.open("periodic");
    h.attr("cron", hclString(j.periodic.cron));
    h.attr("prohibit_overlap", j.periodic.prohibitOverlap);
    if (j.periodic.timeZone) h.attr("time_zone", hclString(j.periodic.timeZone));
    h.close();
  }
  h.open(`group ${hclString(g.name)}`);
  h.attr("count", g.count);
  if (g.ports.length) {
    h.open("network");
    for (const p of g.ports) {
      h.open(`port ${hclString(p.label)}`);
      h.attr("static", p.value);
      h.close();
    }
    h.close();
  }
  h.open("restart");
  h.attr("attempts", g.restart.attempts);
  h.attr("interval", seconds(g.restart.interval));
  h.attr("delay", seconds(g.restart.delay));
  h.attr("mode", hclString(g.restart.mode));
  h.close();
  h.open("reschedule");
  if (g.reschedule.unlimited) {
    h.attr("unlimited", true);
    h.attr("delay", seconds(g.reschedule.delay));
    h.attr("delay_function", hclString("constant"));
  } else {
    h.attr("attempts", 0);
    h.attr("unlimited", false);
  }
  h.close();
  for (const t of g.tasks) {
    h.open(`task ${hclString(t.name)}`);
    h.attr("driver", hclString(t.driver));
    if (t.user !== undefined) h.attr("user", hclString(t.user));
    if (t.hook) {
      h.open("lifecycle");
      h.attr("hook", hclString(t.hook));
      h.attr("sidecar", false);
      h.close();
    }
    h.open("config");
    h.attr("command", hclString(t.command));
    h.attr("args", list(t.args));
    h.close();
    if (t.env.length) {
      h.open("env");
      for (const [k, v] of t.env) h.attr(k, hclString(v));
      h.close();
    }
    if (t.memoryMB !== undefined) {
      h.open("resources");
      h.attr("memory", t.memoryMB);
      h.close();
    }
    h.attr("kill_timeout", seconds(t.killTimeout));
    h.attr("kill_signal", hclString(t.killSignal));
    if (t.service) {
      h.open("service");
      h.attr("name", hclString(t.service.name));
      h.attr("provider", hclString(t.service.provider));
      for (const c of t.service.checks) {
        h.open("check");
        h.attr("name", hclString(c.name));
        h.attr("type", hclString(c.type));
        if (c.path !== undefined) h.attr("path", hclString(c.path));
        if (c.protocol !== undefined) h.attr("protocol", hclString(c.protocol));
        if (c.portLabel !== undefined) h.attr("port", hclString(c.portLabel));
        if (c.command !== undefined) h.attr("command", hclString(c.command));
        if (c.args !== undefined) h.attr("args", list(c.args));
        h.attr("interval", seconds(c.interval));
        h.attr("timeout", seconds(c.timeout));
        if (c.checkRestart) {
          h.open("check_restart");
          h.attr("limit", c.checkRestart.limit);
          h.attr("grace", seconds(c.checkRestart.grace));
          h.attr("ignore_warnings", false);
          h.close();
        }
        h.close();
      }
      h.close();
    }
    h.close();
  }
  h.close();
  h.close();
  const head = comments.map((c) => c ? `# ${c}` : "#");
  return [...head, ...h.lines].join("\n") + "\n";
}
