/**
 * Runs ONE health check (`health exec|http|tcp ...`) or the memory check of a job's process group.
 * This is the edge: it spawns, connects and reads /proc. `runCheck` never throws and never
 * outlives its timeout (plus a few milliseconds to reap what it killed); everything it starts
 * is gone when it returns:
 *
 * - exec: `/bin/sh -c COMMAND` in its own session and process group, stdin /dev/null, stdout and
 *   stderr captured (first few KB). When the shell exits, or at the timeout, the whole group gets
 *   SIGKILL, so neither a hung check nor a background child of a finished one survives.
 * - http: `fetch` with `redirect: "manual"`; 2xx and 3xx are healthy; the body is cancelled.
 * - tcp: `Deno.connect`, closed at once.
 *
 * `detail` is one line meant for logs and `initctl status`: `exit 1: <output>`, `HTTP 503`,
 * `connect ECONNREFUSED 127.0.0.1:6379`, `timed out after 3s`, `memory 612 MiB > 512 MiB`.
 */

import type { HealthCheck } from "../job/model.ts";
import { processGroupRss } from "../process/proc.ts";
import { denoChildren } from "../process/deno_children.ts";

/** Where a check runs: the job instance's process group, environment, directory and user. */
export interface CheckTarget {
  readonly pgid: number;
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly uid?: number;
  readonly gid?: number;
}

export interface CheckResult {
  readonly ok: boolean;
  readonly detail: string;
}

/** Bytes of check output kept (the rest is read and dropped so the check never blocks on a pipe). */
const OUTPUT_CAP = 4096;
/** Bytes of output shown in `detail`. */
const DETAIL_OUTPUT = 200;
/** How long to wait for the kernel to hand back a SIGKILLed shell before giving up on it. */
const REAP_GRACE_MS = 200;
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin";

/** Run one check against `target`, bounded by `timeoutSec`. Never throws. */
export async function runCheck(
  check: HealthCheck,
  target: CheckTarget,
  timeoutSec: number,
): Promise<CheckResult> {
  const timeoutMs = Math.max(1, Math.round(timeoutSec * 1000));
  const timedOut = `timed out after ${timeoutSec}s`;
  try {
    switch (check.type) {
      case "exec":
        return await runExec(check.command, target, timeoutMs, timedOut);
      case "http":
        return await runHttp(check.url, timeoutMs, timedOut);
      case "tcp":
        return await runTcp(check.host, check.port, timeoutMs, timedOut);
      default:
        return { ok: false, detail: `unknown check ${JSON.stringify(check)}` };
    }
  } catch (e) {
    return { ok: false, detail: `check failed: ${errorText(e)}` };
  }
}

/**
 * Resident memory of `target.pgid`'s process group against `limitBytes`. Never throws; when the
 * group cannot be measured the result is healthy (a failed measurement is no evidence against
 * the job) and says so. `measure` defaults to a fresh /proc scan (`processGroupRss`); the
 * monitor passes a GroupRssSampler that shares one scan among many checks.
 */
export function checkMemory(
  limitBytes: number,
  target: CheckTarget,
  measure: (pgid: number) => number = processGroupRss,
): CheckResult {
  let rss: number;
  try {
    rss = measure(target.pgid);
  } catch (e) {
    return { ok: true, detail: `memory unknown: ${errorText(e)}` };
  }
  return rss > limitBytes
    ? { ok: false, detail: `memory ${formatBytes(rss)} > ${formatBytes(limitBytes)}` }
    : { ok: true, detail: `memory ${formatBytes(rss)} <= ${formatBytes(limitBytes)}` };
}

/** `900 KiB`, `45 MiB`, `612.5 MiB`: one decimal at most, binary units. */
export function formatBytes(n: number): string {
  const [value, unit] = n < 1024 * 1024 ? [n / 1024, "KiB"] : [n / (1024 * 1024), "MiB"];
  return `${Math.round(value * 10) / 10} ${unit}`;
}

async function runExec(
  command: string,
  target: CheckTarget,
  timeoutMs: number,
  timedOut: string,
): Promise<CheckResult> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("/bin/sh", {
      args: ["-c", command],
      env: { PATH: DEFAULT_PATH, ...target.env },
      clearEnv: true,
      cwd: target.cwd,
      uid: target.uid,
      gid: target.gid,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
  } catch (e) {
    return { ok: false, detail: `spawn failed: ${errorText(e)}` };
  }
  const pgid = child.pid;
  // Deno reaps the shell itself: the daemon's reaping must leave it alone until then.
  denoChildren.add(pgid);
  child.status.finally(() => denoChildren.delete(pgid)).catch(() => {});
  const output = new Capture(OUTPUT_CAP);
  const readers = [child.stdout.getReader(), child.stderr.getReader()];
  const drained = Promise.all(readers.map((r) => drain(r, output)));

  const deadline = new Deadline(timeoutMs);
  try {
    const status = await Promise.race([child.status, deadline.reached]);
    // The shell is done (or out of time): nothing of the check may outlive it.
    killGroup(pgid);
    if (status === TIMEOUT) {
      await Promise.race([child.status, delay(REAP_GRACE_MS)]);
      return { ok: false, detail: withOutput(timedOut, output.text()) };
    }
    // Pipes close once the group is dead; a process that left the group may still hold them.
    await Promise.race([drained, deadline.reached]);
    const head = status.signal !== null
      ? `killed by signal ${status.signal.replace(/^SIG/, "")}`
      : `exit ${status.code}`;
    return { ok: status.success, detail: withOutput(head, output.text()) };
  } finally {
    deadline.clear();
    for (const r of readers) r.cancel().catch(() => {});
    child.status.catch(() => {});
  }
}

async function runHttp(url: string, timeoutMs: number, timedOut: string): Promise<CheckResult> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const res = await fetch(url, {
      redirect: "manual",
      signal: abort.signal,
      headers: { "user-agent": "upkeep-health-check" },
    });
    await res.body?.cancel().catch(() => {});
    const ok = res.status >= 200 && res.status < 400;
    return { ok, detail: `HTTP ${res.status}` };
  } catch (e) {
    if (abort.signal.aborted) return { ok: false, detail: timedOut };
    return { ok: false, detail: fetchErrorText(e, url) };
  } finally {
    clearTimeout(timer);
  }
}

async function runTcp(
  host: string,
  port: number,
  timeoutMs: number,
  timedOut: string,
): Promise<CheckResult> {
  const where = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  const connecting = Deno.connect({ hostname: host, port });
  const deadline = new Deadline(timeoutMs);
  try {
    const outcome = await Promise.race([
      connecting.then((conn) => ({ conn }), (error: unknown) => ({ error })),
      deadline.reached,
    ]);
    if (outcome === TIMEOUT) {
      connecting.then((c) => c.close(), () => {});
      return { ok: false, detail: `connect to ${where} ${timedOut}` };
    }
    if ("error" in outcome) {
      const code = (outcome.error as { code?: unknown }).code;
      return typeof code === "string"
        ? { ok: false, detail: `connect ${code} ${where}` }
        : { ok: false, detail: `connect ${where} failed: ${errorText(outcome.error)}` };
    }
    outcome.conn.close();
    return { ok: true, detail: `connected to ${where}` };
  } finally {
    deadline.clear();
  }
}

const TIMEOUT = Symbol("timeout");

/** One timer that resolves `reached` with TIMEOUT; `clear()` it on every path. */
class Deadline {
  readonly reached: Promise<typeof TIMEOUT>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  constructor(ms: number) {
    this.reached = new Promise((resolve) => {
      this.#timer = setTimeout(() => resolve(TIMEOUT), ms);
    });
  }
  clear(): void {
    clearTimeout(this.#timer);
  }
}

/** The first `cap` bytes of everything written, in arrival order. */
class Capture {
  #chunks: Uint8Array[] = [];
  #size = 0;
  constructor(private readonly cap: number) {}
  add(chunk: Uint8Array): void {
    if (this.#size >= this.cap) return;
    const part = chunk.subarray(0, this.cap - this.#size);
    this.#chunks.push(part.slice());
    this.#size += part.length;
  }
  text(): string {
    const all = new Uint8Array(this.#size);
    let at = 0;
    for (const c of this.#chunks) {
      all.set(c, at);
      at += c.length;
    }
    return oneLine(new TextDecoder().decode(all.subarray(0, DETAIL_OUTPUT)));
  }
}

async function drain(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  into: Capture,
): Promise<void> {
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return;
      into.add(value);
    }
  } catch {
    // Cancelled at the deadline: what was read is kept.
  }
}

function killGroup(pgid: number): void {
  try {
    Deno.kill(-pgid, "SIGKILL");
  } catch {
    // ESRCH: the group is already empty.
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    Deno.unrefTimer(Number(t));
  });
}

function withOutput(head: string, output: string): string {
  return output === "" ? head : `${head}: ${output}`;
}

function oneLine(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/[\s\x00-\x1f\x7f]+/g, " ").trim();
}

function errorText(e: unknown): string {
  return oneLine(e instanceof Error ? e.message : String(e));
}

/** Deno's fetch errors bury the cause; say it the way `connect ECONNREFUSED host:port` does. */
function fetchErrorText(e: unknown, url: string): string {
  const cause = e instanceof Error && e.cause !== undefined ? errorText(e.cause) : errorText(e);
  let where = url;
  try {
    const u = new URL(url);
    where = `${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`;
  } catch {
    // Keep the URL as given.
  }
  if (/connection refused/i.test(cause)) return `connect ECONNREFUSED ${where}`;
  if (/connection reset/i.test(cause)) return `connection reset by ${where}`;
  const dns = /dns error: (.*)$/.exec(cause);
  if (dns) return `lookup of ${where} failed: ${dns[1]}`;
  return cause.replace(/^error sending request for url \([^)]*\): /, "");
}
