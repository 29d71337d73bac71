/**
 * The stanza table of Upstart 1.13 (`init/parse_job.c`'s semantics, our code): each keyword's
 * handler reads its arguments with the libnih tokenizer and sets fields of the draft job, raising
 * Upstart's exact error messages. Sub-keywords (`start on`, `kill signal`, ...) are compared before
 * dequoting, values after, as Upstart does. Pure: no Deno APIs.
 */

import type { ProcessSpec } from "./model.ts";
import { LIMIT_RESOURCES, type LimitResource, type LimitValue } from "./model.ts";
import type { Draft, Handler, StanzaContext } from "./draft.ts";
import {
  CNLWS,
  type Cursor,
  hasToken,
  LexError,
  MSG,
  nextArg,
  nextToken,
  parseBlock,
  parseCommand,
  skipBlock,
  skipComment,
  type Token,
} from "./lexer.ts";
import { INT_MAX, strtol, strtoul, toCInt, ULONG_MAX } from "./numbers.ts";
import { parseEventExprAt } from "../events/parse.ts";
import { signalName, signalNumber } from "../process/signals.ts";
import { healthStanza, respawnExtension } from "./extensions.ts";
import { logStanza } from "./log_stanza.ts";

export const PARSE_MSG = {
  illegalInterval: "Illegal interval, expected number of seconds",
  illegalExit: "Illegal exit status, expected integer",
  illegalSignal: "Illegal signal status, expected integer",
  illegalUmask: "Illegal file creation mask, expected octal integer",
  illegalNice: "Illegal nice value, expected -20 to 19",
  illegalOom: "Illegal oom adjustment, expected -16 to 15 or 'never'",
  illegalOomScore: "Illegal oom score adjustment, expected -999 to 1000 or 'never'",
  illegalLimit: "Illegal limit, expected 'unlimited' or integer",
} as const;

const err = (message: string, line: number) => new LexError(message, line);

/** Read one dequoted argument; the error (if any) is returned through the union. */
function arg(c: Cursor): Token | LexError {
  return nextArg(c);
}

/** Sub-keyword: a raw (not dequoted) token. */
function keyword(c: Cursor): Token | LexError {
  return nextToken(c, CNLWS, false);
}

type Text =
  | "description"
  | "author"
  | "version"
  | "usage"
  | "instance"
  | "chdir"
  | "chroot"
  | "setuid"
  | "setgid";

/** A stanza with exactly one argument stored as text. */
function single(field: Text): Handler {
  return ({ c, job }) => {
    const t = arg(c);
    if (t instanceof LexError) return t;
    (job as Record<Text, string | null>)[field] = t.text;
    return skipComment(c);
  };
}

/** A list stanza (`emits`, `export`): at least one argument, all dequoted. */
function list(field: "emits" | "export"): Handler {
  return ({ c, job }) => {
    if (!hasToken(c)) return err(MSG.expectedToken, c.line);
    while (hasToken(c)) {
      const t = arg(c);
      if (t instanceof LexError) return t;
      job[field].push(t.text);
    }
    return skipComment(c);
  };
}

/** Signal number of a name as libnih knows it (`TERM`, `SIGTERM`), null when not a name. */
function signalByName(text: string): number | null {
  if (/^\d+$/.test(text)) return null;
  const name = text.startsWith("SIG") ? text.slice(3) : text;
  const n = signalNumber(name);
  return typeof n === "number" && name !== "" && !/^\d/.test(name) ? n : null;
}

/** `NAME` or `SIGNAME` or a decimal <= INT_MAX, as its canonical name (or decimal). */
function parseSignal(text: string): string | null {
  const byName = signalByName(text);
  if (byName !== null) return signalName(byName);
  const n = strtoul(text);
  if (n === null || n > INT_MAX) return null;
  return signalName(Number(n));
}

function processStanza(field: "main" | "preStart" | "postStart" | "preStop" | "postStop") {
  const set = (job: Draft, p: ProcessSpec) => {
    job[field] = p;
  };
  const exec = (ctx: StanzaContext): LexError | null => {
    if (!hasToken(ctx.c)) return err(MSG.expectedToken, ctx.c.line);
    const cmd = parseCommand(ctx.c);
    if (cmd instanceof LexError) return cmd;
    set(ctx.job, { exec: cmd });
    return null;
  };
  const script = (ctx: StanzaContext): LexError | null => {
    const bad = skipComment(ctx.c);
    if (bad) {
      skipBlock(ctx.c, "script"); // recovery: do not read the body as stanzas
      ctx.recovered = true;
      return bad;
    }
    const body = parseBlock(ctx.c, "script");
    if (body instanceof LexError) return body;
    set(ctx.job, { script: body });
    return null;
  };
  return { exec, script };
}

const main = processStanza("main");

function hook(field: "preStart" | "postStart" | "preStop" | "postStop"): Handler {
  const p = processStanza(field);
  return (ctx) => {
    const k = keyword(ctx.c);
    if (k instanceof LexError) return k;
    if (k.text === "exec") return p.exec(ctx);
    if (k.text === "script") return p.script(ctx);
    return err(MSG.unknownStanza, k.line);
  };
}

function on(field: "startOn" | "stopOn", name: string): Handler {
  return (ctx) => {
    const k = keyword(ctx.c);
    if (k instanceof LexError) return k;
    if (k.text !== "on") return err(MSG.unknownStanza, k.line);
    const state = { paren: 0 };
    const expr = parseEventExprAt(ctx.c, state);
    if (expr instanceof LexError) {
      ctx.openParens = state.paren;
      return expr;
    }
    ctx.job[field] = expr;
    ctx.lines[name] = ctx.line;
    if (field === "startOn") ctx.job.manual = false;
    return null;
  };
}

const kill: Handler = ({ c, job }) => {
  const k = keyword(c);
  if (k instanceof LexError) return k;
  if (k.text === "timeout") {
    const t = arg(c);
    if (t instanceof LexError) return t;
    // A time_t, as Upstart reads it: anything up to 2^63 - 1 (past 2^53 only roughly kept).
    const n = strtol(t.text);
    if (n === null || n < 0n) return err(PARSE_MSG.illegalInterval, t.line);
    job.killTimeout = Number(n);
  } else if (k.text === "signal") {
    const t = arg(c);
    if (t instanceof LexError) return t;
    const sig = parseSignal(t.text);
    if (sig === null) return err(PARSE_MSG.illegalSignal, t.line);
    job.killSignal = sig;
  } else {
    return err(MSG.unknownStanza, k.line);
  }
  return skipComment(c);
};

const reload: Handler = ({ c, job }) => {
  const k = keyword(c);
  if (k instanceof LexError) return k;
  if (k.text !== "signal") return err(MSG.unknownStanza, k.line);
  const t = arg(c);
  if (t instanceof LexError) return t;
  const sig = parseSignal(t.text);
  if (sig === null) return err(PARSE_MSG.illegalSignal, t.line);
  job.reloadSignal = sig;
  return skipComment(c);
};

const respawn: Handler = (ctx) => {
  const { c, job } = ctx;
  if (!hasToken(c)) {
    job.respawn = true;
    return skipComment(c);
  }
  const k = keyword(c);
  if (k instanceof LexError) return k;
  if (k.text !== "limit") return respawnExtension(ctx, k);
  const t = arg(c);
  if (t instanceof LexError) return t;
  if (t.text === "unlimited") {
    job.respawnLimit = "unlimited";
    return skipComment(c);
  }
  const count = strtol(t.text);
  if (count === null || count < 0n || count > INT_MAX) return err(PARSE_MSG.illegalLimit, t.line);
  const i = arg(c);
  if (i instanceof LexError) return i;
  const interval = strtol(i.text);
  if (interval === null || interval < 0n) return err(PARSE_MSG.illegalInterval, i.line);
  job.respawnLimit = count === 0n || interval === 0n
    ? "unlimited"
    : { count: Number(count), interval: Number(interval) };
  return skipComment(c);
};

const normal: Handler = ({ c, job }) => {
  const k = keyword(c);
  if (k instanceof LexError) return k;
  if (k.text !== "exit") return err(MSG.unknownStanza, k.line);
  do {
    const t = arg(c);
    if (t instanceof LexError) return t;
    const sig = signalByName(t.text);
    if (sig !== null) {
      job.normalExit.push(signalName(sig));
      continue;
    }
    const n = strtoul(t.text);
    if (n === null || n > INT_MAX) return err(PARSE_MSG.illegalExit, t.line);
    job.normalExit.push(Number(n));
  } while (hasToken(c));
  return skipComment(c);
};

function choice<F extends "expect" | "console">(field: F, values: readonly Draft[F][]): Handler {
  return ({ c, job }) => {
    const t = arg(c);
    if (t instanceof LexError) return t;
    if (!(values as readonly string[]).includes(t.text)) return err(MSG.unknownStanza, t.line);
    job[field] = t.text as Draft[F];
    return skipComment(c);
  };
}

const umask: Handler = ({ c, job }) => {
  const t = arg(c);
  if (t instanceof LexError) return t;
  const n = strtoul(t.text, 8);
  if (n === null || (n & ~0o777n & ULONG_MAX) !== 0n) return err(PARSE_MSG.illegalUmask, t.line);
  job.umask = Number(n);
  return skipComment(c);
};

const nice: Handler = ({ c, job }) => {
  const t = arg(c);
  if (t instanceof LexError) return t;
  const n = strtol(t.text);
  const v = n === null ? null : toCInt(n);
  if (v === null || v < -20 || v > 19) return err(PARSE_MSG.illegalNice, t.line);
  job.nice = v;
  return skipComment(c);
};

const oom: Handler = ({ c, job }) => {
  const t = arg(c);
  if (t instanceof LexError) return t;
  if (t.text === "score") {
    const s = arg(c);
    if (s instanceof LexError) return s;
    if (s.text === "never") {
      job.oomScore = "never";
    } else {
      const n = strtol(s.text);
      const v = n === null ? null : toCInt(n);
      if (v === null || v < -1000 || v > 1000) return err(PARSE_MSG.illegalOomScore, s.line);
      job.oomScore = v;
    }
  } else if (t.text === "never") {
    job.oomScore = "never";
  } else {
    const n = strtol(t.text);
    const adj = n === null ? null : toCInt(n);
    if (adj === null || adj < -17 || adj > 15) return err(PARSE_MSG.illegalOom, t.line);
    job.oomScore = Math.trunc((adj * 1000) / (adj < 0 ? 17 : 15));
  }
  return skipComment(c);
};

function limitValue(text: string): LimitValue | null {
  if (text === "unlimited") return "unlimited";
  const n = strtoul(text);
  if (n === null) return null;
  if (n === ULONG_MAX) return "unlimited";
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : `${n}`;
}

const limit: Handler = ({ c, job }) => {
  const r = arg(c);
  if (r instanceof LexError) return r;
  if (!(LIMIT_RESOURCES as readonly string[]).includes(r.text)) {
    return err(MSG.unknownStanza, r.line);
  }
  const s = arg(c);
  if (s instanceof LexError) return s;
  const soft = limitValue(s.text);
  if (soft === null) return err(PARSE_MSG.illegalLimit, s.line);
  const h = arg(c);
  if (h instanceof LexError) return h;
  const hard = limitValue(h.text);
  if (hard === null) return err(PARSE_MSG.illegalLimit, h.line);
  job.limits[r.text as LimitResource] = { soft, hard };
  return skipComment(c);
};

const apparmor: Handler = ({ c, job }) => {
  const k = keyword(c);
  if (k instanceof LexError) return k;
  if (k.text !== "load" && k.text !== "switch") return err(MSG.unknownStanza, k.line);
  const t = arg(c);
  if (t instanceof LexError) return t;
  if (k.text === "load") job.apparmorLoad = t.text;
  else job.apparmorSwitch = t.text;
  return skipComment(c);
};

const cgroup: Handler = ({ c, job }) => {
  if (!hasToken(c)) return err(MSG.expectedToken, c.line);
  const args: string[] = [];
  while (args.length < 4 && (args.length === 0 || hasToken(c))) {
    const t = arg(c);
    if (t instanceof LexError) return t;
    args.push(t.text);
  }
  const [controller, a2 = null, a3 = null, a4 = null] = args;
  job.cgroups.push(
    args.length === 2
      ? { controller: controller!, name: a2, key: null, value: null }
      : args.length === 3
      ? { controller: controller!, name: null, key: a2, value: a3 }
      : { controller: controller!, name: a2, key: a3, value: a4 },
  );
  return skipComment(c);
};

const env: Handler = ({ c, job, env }) => {
  const t = arg(c);
  if (t instanceof LexError) return t;
  const eq = t.text.indexOf("=");
  const key = eq === -1 ? t.text : t.text.slice(0, eq);
  job.envUnset = job.envUnset.filter((k) => k !== key);
  if (eq !== -1) {
    job.env[key] = t.text.slice(eq + 1);
  } else if (Object.hasOwn(env, key)) {
    job.env[key] = env[key]!;
  } else {
    // As Upstart: a variable the daemon does not have is taken out of the job's environment.
    delete job.env[key];
    job.envUnset.push(key);
  }
  return skipComment(c);
};

/** Upstart's stanzas by keyword. */
export const STANZAS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ["instance", single("instance")],
  ["description", single("description")],
  ["author", single("author")],
  ["version", single("version")],
  ["env", env],
  ["export", list("export")],
  ["start", on("startOn", "start on")],
  ["stop", on("stopOn", "stop on")],
  ["emits", list("emits")],
  ["exec", main.exec],
  ["script", main.script],
  ["pre-start", hook("preStart")],
  ["post-start", hook("postStart")],
  ["pre-stop", hook("preStop")],
  ["post-stop", hook("postStop")],
  ["expect", choice("expect", ["stop", "daemon", "fork", "none"])],
  ["task", ({ c, job }) => (job.task = true, skipComment(c))],
  ["kill", kill],
  ["reload", reload],
  ["respawn", respawn],
  ["normal", normal],
  ["console", choice("console", ["log", "output", "owner", "none"])],
  ["umask", umask],
  ["nice", nice],
  ["oom", oom],
  ["limit", limit],
  ["chroot", single("chroot")],
  ["chdir", single("chdir")],
  ["setuid", single("setuid")],
  ["setgid", single("setgid")],
  // `debug` and `manual` read nothing more: what follows on the line is parsed as a new stanza.
  ["debug", ({ job }) => (job.debug = true, null)],
  ["manual", ({ job }) => (job.startOn = null, job.manual = true, null)],
  ["usage", single("usage")],
  ["apparmor", apparmor],
  ["cgroup", cgroup],
  ["health", healthStanza],
  ["log", logStanza],
]);
