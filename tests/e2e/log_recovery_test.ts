/**
 * The log pipeline taking over from a daemon that stopped at a chosen instant: real FIFOs, spool,
 * record and log files in a temp dir, this test process standing in for the job and the holder (it
 * keeps the FIFO open). Deterministic versions of what tests/e2e/logs_test.ts checks by killing a
 * daemon at a random instant.
 */

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { JobLogs } from "../../lib/log/job_logs.ts";
import { LOG_DEFAULTS, type LogSettings } from "../../lib/log/settings.ts";
import { encodeRecord } from "../../lib/log/spool.ts";
import { markerRecord } from "../../lib/log/lines.ts";
import { defaultJob, type JobClass } from "../../lib/job/model.ts";
import { waitFor } from "./helpers.ts";

const enc = new TextEncoder();
const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

interface World {
  readonly dir: string;
  readonly logs: JobLogs;
  readonly messages: string[];
  read(name: string): string;
}

async function world(
  defaults: LogSettings,
  setup: (dir: string) => void,
  fn: (w: World) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "upkeep-log-recovery-" });
  Deno.mkdirSync(`${dir}/logs`);
  Deno.mkdirSync(`${dir}/pipes`, { mode: 0o700 });
  const messages: string[] = [];
  let logs: JobLogs | null = null;
  try {
    setup(dir);
    logs = new JobLogs({
      logDir: `${dir}/logs`,
      pipeDir: `${dir}/pipes`,
      defaults,
      log: (m) => messages.push(m),
    });
    const read = (name: string) => {
      try {
        return Deno.readTextFileSync(`${dir}/logs/${name}`);
      } catch {
        return "";
      }
    };
    await fn({ dir, logs, messages, read });
  } finally {
    await logs?.close(2000);
    await Deno.remove(dir, { recursive: true });
  }
}

function job(name: string): JobClass {
  return defaultJob(name, "");
}

/** A FIFO with `bytes` in it, held open (returned) as a job would hold it. */
function fifoWith(path: string, bytes: Uint8Array): Deno.FsFile {
  new Deno.Command("mkfifo", { args: ["-m", "0600", path] }).outputSync();
  const f = Deno.openSync(path, { read: true, write: true });
  f.writeSync(bytes);
  return f;
}

Deno.test({
  name: "a pipe left by an earlier daemon is written out; closed and removed at the end",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    world(LOG_DEFAULTS, () => {}, async (w) => {
      const held = fifoWith(`${w.dir}/pipes/old.log.fifo`, enc.encode("one\ntwo"));
      try {
        assertEquals(w.logs.recover(), 1);
        w.logs.releaseUnclaimed();
        await waitFor(() => w.read("old.log") === "one\ntwo\n", "the pipe written out");
        await w.logs.close(2000);
        assertEquals([...Deno.readDirSync(`${w.dir}/pipes`)].map((e) => e.name), []);
      } finally {
        held.close();
      }
    }),
});

Deno.test({
  name: "a recovered pipe is taken up by the instance of its name, and goes on",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    world(LOG_DEFAULTS, () => {}, async (w) => {
      const held = fifoWith(`${w.dir}/pipes/web.log.fifo`, enc.encode("before\n"));
      try {
        w.logs.recover();
        const path = w.logs.attach(job("web"), "");
        assertEquals(path, `${w.dir}/pipes/web.log.fifo`);
        w.logs.releaseUnclaimed();
        held.writeSync(enc.encode("after\n"));
        await waitFor(() => w.read("web.log") === "before\nafter\n", "both lines");
        assert(Deno.lstatSync(path!).isFifo, "the pipe stays while the instance lives");
      } finally {
        held.close();
      }
    }),
});

/** A line-mode log stopped mid-write: spool, record and log as a killed daemon left them. */
function midWrite(dir: string, logSoFar: string, pendingLogSize: number): void {
  const spool = "a\nb\nc\n";
  Deno.writeTextFileSync(`${dir}/pipes/t.log.spool`, spool);
  Deno.writeTextFileSync(`${dir}/logs/t.log`, logSoFar);
  const ino = BigInt(Deno.statSync(`${dir}/logs/t.log`).ino!);
  Deno.writeFileSync(
    `${dir}/pipes/t.log.spool.rec`,
    encodeRecord({ done: 0, ino, logSize: 4, pending: { done: 4, logSize: pendingLogSize } }),
  );
}

const STAMPED = { ...LOG_DEFAULTS, timestamps: "rfc3339" as const };
const line = (t: string) => `2024-05-01T00:00:00.000Z ${t}\n`;

for (
  const [what, logSoFar, expect] of [
    ["never started", "old\n", ["old", "a", "b", "c"]],
    ["cut short", "old\n" + line("a").slice(0, 10), ["old", "a", "b", "c"]],
    ["done", "old\n" + line("a") + line("b"), ["old", "a", "b", "c"]],
  ] as const
) {
  Deno.test({
    name: `line mode after a kill: a write ${what} is neither lost nor repeated`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () =>
      world(
        STAMPED,
        (dir) => midWrite(dir, logSoFar, 4 + 2 * line("a").length),
        async (w) => {
          const held = fifoWith(`${w.dir}/pipes/t.log.fifo`, new Uint8Array(0));
          try {
            w.logs.recover();
            w.logs.attach(job("t"), "");
            await waitFor(() => w.read("t.log").split("\n").length === 5, "the spool written");
            const got = w.read("t.log").trim().split("\n").map((l) => l.replace(STAMP, ""));
            assertEquals(got, expect);
          } finally {
            held.close();
          }
        },
      ),
  });
}

Deno.test({
  name: "plain mode: a marker record in the pipe completes a partial line, then goes",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    world(LOG_DEFAULTS, () => {}, async (w) => {
      const path = w.logs.attach(job("p"), "")!;
      const f = Deno.openSync(path, { read: true, write: true });
      try {
        f.writeSync(enc.encode("partial"));
        w.logs.ended(job("p"), "", "main process (1) terminated with status 0");
        f.writeSync(enc.encode("next\n"));
        await waitFor(() => w.read("p.log") === "partial\nnext\n", "the line completed");
      } finally {
        f.close();
      }
    }),
});

Deno.test({
  name: "plain rotation: every file under the limit, at a line end but for a line longer than it",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    world({ ...LOG_DEFAULTS, maxBytes: 4096, keep: 10 }, () => {}, async (w) => {
      const path = w.logs.attach(job("r"), "")!;
      const f = Deno.openSync(path, { read: true, write: true });
      try {
        const long = "y".repeat(5000) + "\n";
        const lines = Array.from({ length: 100 }, (_, i) => `line ${i} ${"x".repeat(50)}\n`);
        f.writeSync(enc.encode(lines.slice(0, 50).join("") + long + lines.slice(50).join("")));
        await waitFor(() => w.read("r.log").includes("line 99 "), "all written");
        const names = [...Deno.readDirSync(`${w.dir}/logs`)].map((e) => e.name);
        let all = "";
        for (let n = 10; n >= 1; n--) {
          if (!names.includes(`r.log.${n}`)) continue;
          const t = w.read(`r.log.${n}`);
          assert(t.length <= 4096, `r.log.${n} has ${t.length} bytes`);
          // At a line end, but for the piece of the line longer than a whole file (cut there).
          assert(t.endsWith("\n") || t === "y".repeat(4096), `r.log.${n} ends mid-line`);
          all += t;
        }
        all += w.read("r.log");
        assertEquals(all, lines.slice(0, 50).join("") + long + lines.slice(50).join(""));
      } finally {
        f.close();
      }
    }),
});

Deno.test({
  name: "a marker lands between what was written before and after it",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    world({ ...LOG_DEFAULTS, markers: true }, () => {}, async (w) => {
      const path = w.logs.attach(job("m"), "")!;
      const f = Deno.openSync(path, { read: true, write: true });
      try {
        f.writeSync(enc.encode("x\n"));
        w.logs.started(job("m"), "", "main process starting");
        f.writeSync(enc.encode("y"));
        w.logs.ended(job("m"), "", "main process (9) terminated with status 0");
        assertEquals(markerRecord("").length, 9);
        await waitFor(
          () =>
            w.read("m.log") ===
              "x\nupkeep: main process starting\ny\nupkeep: main process (9) terminated with status 0\n",
          "markers in order",
        );
      } finally {
        f.close();
      }
    }),
});
