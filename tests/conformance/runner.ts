/**
 * Run one scenario against one target and return its normalised transcript: every recorded step
 * as `$ COMMAND`, its stdout, its stderr lines prefixed `! `, and `[exit N]` when not 0.
 */

import type { RunResult } from "../e2e/helpers.ts";
import { PidNames, replacePaths, sortBlocks, UNORDERED_COMMANDS } from "./normalize.ts";
import type { Scenario, Step } from "./scenario.ts";
import type { Target } from "./targets.ts";

const DEFAULT_WAIT_MS = 20_000;

export interface RunOutcome {
  readonly transcript: string;
  /** Set when a step could not complete (a wait timed out); the transcript ends there. */
  readonly error: string | null;
}

export async function runScenario(scenario: Scenario, target: Target): Promise<RunOutcome> {
  const lines: string[] = [];
  const pids = new PidNames();
  const background = new Map<
    string,
    { cmd: string; args: readonly string[]; result: Promise<RunResult> }
  >();
  const paths: [string, string][] = [
    [target.tmp, "@TMP@"],
    [target.conf, "@CONF@"],
    [target.logs, "@LOGS@"],
    [target.bin, "@BIN@"],
    [target.root, "@ROOT@"],
  ];
  const clean = (text: string) => pids.replace(replacePaths(text, paths));
  const record = (cmd: string, r: RunResult, args: readonly string[]) => {
    lines.push(`$ ${cmd}`);
    let out = r.stdout;
    if (UNORDERED_COMMANDS.has(args[0] ?? "")) out = sortBlocks(out);
    for (const l of splitLines(out)) lines.push(clean(l));
    for (const l of splitLines(r.stderr)) lines.push(`! ${clean(l)}`);
    if (r.code !== 0) lines.push(`[exit ${r.code}]`);
  };

  for (const [name, text] of Object.entries(scenario.jobs)) {
    writeJob(target, name, text);
  }
  try {
    await target.start();
    for (const step of scenario.steps) {
      await runStep(step);
    }
    for (const [id] of background) {
      throw new Error(`background command ${id} was never joined`);
    }
    return { transcript: lines.join("\n"), error: null };
  } catch (e) {
    return {
      transcript: lines.join("\n"),
      error: e instanceof Error ? e.message : String(e),
    };
  } finally {
    // Background commands still running end with the daemon.
    await target.close();
    await Promise.allSettled([...background.values()].map((b) => b.result));
  }

  async function runStep(step: Step): Promise<void> {
    switch (step.do) {
      case "initctl": {
        const program = step.as ?? "initctl";
        const args = step.args.map((a) => target.expand(a));
        const cmd = [program, ...step.args].join(" ");
        if (step.background) {
          background.set(step.background, {
            cmd,
            args: programArgs(program, step.args),
            result: target.initctl(args, program),
          });
          return;
        }
        const r = await target.initctl(args, program);
        const output = step.output ?? "all";
        if (output === "all") record(cmd, r, programArgs(program, step.args));
        else if (output === "code") {
          lines.push(`$ ${cmd}`);
          if (r.code !== 0) lines.push(`[exit ${r.code}]`);
        }
        return;
      }
      case "join": {
        const b = background.get(step.id);
        if (!b) throw new Error(`no background command ${step.id}`);
        background.delete(step.id);
        const r = await withTimeout(b.result, DEFAULT_WAIT_MS, `background ${b.cmd}`);
        record(`${b.cmd}  # joined`, r, b.args);
        return;
      }
      case "await": {
        const args = step.args.map((a) => target.expand(a));
        let last: RunResult | null = null;
        const r = await poll(
          async () => {
            last = await target.initctl(args, "initctl");
            const text = last.stdout + last.stderr;
            if (!step.match.test(text)) return null;
            if (step.fresh) {
              const pid = /, process (\d+)/.exec(text)?.[1];
              if (!pid || pids.has(pid)) return null;
            }
            return last;
          },
          step.timeoutMs ?? DEFAULT_WAIT_MS,
          () =>
            `initctl ${step.args.join(" ")} to match ${step.match} (last: ${
              JSON.stringify((last as RunResult | null)?.stdout ?? "")
            })`,
        );
        record(`initctl ${step.args.join(" ")}  # awaited`, r, step.args);
        return;
      }
      case "file": {
        const path = `${target.tmp}/${step.path}`;
        // A recorded file is read once it holds whole lines (a writer may be half way through).
        const complete = (t: string) => step.record === false || t.endsWith("\n");
        const text = await poll(
          () => {
            const t = readText(path);
            return t !== null && complete(t) && (!step.match || step.match.test(t)) ? t : null;
          },
          step.timeoutMs ?? DEFAULT_WAIT_MS,
          () => `file ${step.path} ${step.match ?? ""}`,
        );
        if (step.record === false) return;
        lines.push(`= ${step.path}`);
        for (const l of splitLines(text)) lines.push(clean(l));
        return;
      }
      case "log": {
        const path = `${target.logs}/${step.name}`;
        const text = await poll(
          () => {
            const t = readText(path);
            return t !== null && step.match.test(t) ? t : null;
          },
          DEFAULT_WAIT_MS,
          () => `log ${step.name} to match ${step.match}`,
        );
        lines.push(`= log ${step.name}`);
        const body = step.raw ? JSON.stringify(text) : text.replaceAll("\r\n", "\n");
        for (const l of splitLines(body)) lines.push(clean(l));
        return;
      }
      case "touch":
        Deno.writeTextFileSync(`${target.tmp}/${step.path}`, step.text ?? "");
        return;
      case "job":
        if (step.text === null) {
          Deno.removeSync(`${target.conf}/${jobFile(step.name, step.ext)}`);
          lines.push(`# removed job ${step.name}`);
        } else {
          writeJob(target, step.ext ? `${step.name}.${step.ext}` : step.name, step.text);
          lines.push(`# wrote job ${step.name}`);
        }
        return;
      case "kill": {
        const args = step.args.map((a) => target.expand(a));
        const r = await target.initctl(["status", ...args], "initctl");
        const m = /, process (\d+)/.exec(r.stdout);
        if (!m) throw new Error(`kill: no main process in ${JSON.stringify(r.stdout)}`);
        sendSignal(Number(m[1]), step.signal);
        lines.push(`# kill -${step.signal} ${pids.name(m[1]!)}`);
        return;
      }
      case "mainCmd": {
        const args = step.args.map((a) => target.expand(a));
        const r = await target.initctl(["status", ...args], "initctl");
        const m = /, process (\d+)/.exec(r.stdout);
        if (!m) throw new Error(`mainCmd: no main process in ${JSON.stringify(r.stdout)}`);
        const cmd = await settledCommand(Number(m[1]));
        lines.push(`# main process of ${step.args.join(" ")}: ${clean(cmd ?? "(gone)")}`);
        return;
      }
      case "killPid": {
        const pid = Number(readText(`${target.tmp}/${step.path}`)?.trim());
        if (!pid) throw new Error(`killPid: no pid in ${step.path}`);
        sendSignal(pid, step.signal);
        lines.push(`# kill -${step.signal} (pid in ${step.path})`);
        return;
      }
      case "pidGone": {
        const pid = Number(readText(`${target.tmp}/${step.path}`)?.trim());
        if (!pid) throw new Error(`pidGone: no pid in ${step.path}`);
        await poll(() => !alive(pid), DEFAULT_WAIT_MS, () => `pid in ${step.path} to exit`);
        lines.push(`# pid in ${step.path} has exited`);
        return;
      }
      case "pidAlive": {
        const pid = Number(readText(`${target.tmp}/${step.path}`)?.trim());
        if (!pid) throw new Error(`pidAlive: no pid in ${step.path}`);
        lines.push(`# pid in ${step.path} ${alive(pid) ? "still runs" : "has exited"}`);
        return;
      }
      case "parseErrors": {
        // The first error of each file (both log the first one; upkeep then counts the others).
        const re = new RegExp(`${escapeRe(target.conf)}/(\\S+):(\\d+): (.+)$`, "gm");
        const firsts = () => {
          const byFile = new Map<string, string>();
          for (const m of target.diagnostics().matchAll(re)) {
            if (!byFile.has(m[1]!)) byFile.set(m[1]!, `${m[1]}:${m[2]}: ${m[3]}`);
          }
          return byFile;
        };
        const found = step.file === undefined ? firsts() : await poll(
          () => {
            const f = firsts();
            return f.has(step.file!) ? f : null;
          },
          DEFAULT_WAIT_MS,
          () => `a parse error for ${step.file}`,
        );
        lines.push(`# parse errors${step.file ? ` of ${step.file}` : ""}`);
        for (const [file, line] of [...found].sort(([a], [b]) => a < b ? -1 : 1)) {
          if (step.file === undefined || file === step.file) lines.push(line);
        }
        return;
      }
      case "note":
        lines.push(`# ${step.text}`);
        return;
    }
  }
}

/** The initctl command and its arguments (a shortcut program is itself the command). */
function programArgs(program: string, args: readonly string[]): readonly string[] {
  return program === "initctl" ? args : [program, ...args];
}

function jobFile(name: string, ext?: string): string {
  return /\.(conf|override)$/.test(name) ? name : `${name}.${ext ?? "conf"}`;
}

function writeJob(target: Target, name: string, text: string): void {
  const path = `${target.conf}/${jobFile(name)}`;
  Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  // Write then rename, so that a watcher never reads half a file.
  Deno.writeTextFileSync(`${path}.tmp~`, target.expand(text));
  Deno.renameSync(`${path}.tmp~`, path);
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  return (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n");
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function readText(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
}

/** Send a signal by name (`TERM`) or number (`40`: real-time signals Deno has no name for). */
function sendSignal(pid: number, signal: string): void {
  if (!/^\d+$/.test(signal)) return Deno.kill(pid, `SIG${signal}` as Deno.Signal);
  const r = new Deno.Command("kill", { args: [`-${signal}`, String(pid)] }).outputSync();
  if (!r.success) throw new Error(`kill -${signal} ${pid}: ${new TextDecoder().decode(r.stderr)}`);
}

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

async function poll<T>(
  cond: () => T | null | false | Promise<T | null | false>,
  timeoutMs: number,
  what: () => string,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let delay = 10;
  for (;;) {
    const v = await cond();
    if (v !== null && v !== false) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The command line of `pid` once it has settled: the same in two reads 50 ms apart, with the
 * process asleep (not running or runnable) at the second (at most 5 s). A daemon that `expect
 * fork`/`daemon` followed is reported as soon as it is forked, and may not have exec'd yet: for a
 * moment its command line is still its parent's (a job's script shell), and on a busy machine that
 * moment can outlast 50 ms; a process between its fork and its exec is runnable, never asleep. The
 * same wait applies to both inits.
 */
async function settledCommand(pid: number): Promise<string | null> {
  const read = () =>
    readText(`/proc/${pid}/cmdline`)?.split("\0").filter(Boolean).join(" ") ?? null;
  const asleep = () => {
    const stat = readText(`/proc/${pid}/stat`);
    const state = stat?.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return !state || !"RD".includes(state);
  };
  let last = read();
  for (let waited = 0; waited < 5000; waited += 50) {
    await new Promise((r) => setTimeout(r, 50));
    const now = read();
    if (now === last && asleep()) return now;
    last = now;
  }
  return last;
}
