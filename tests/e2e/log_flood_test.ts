/**
 * End-to-end: line-mode logs (timestamps) flooded by jobs that write flat out, `yes` (short lines)
 * and `cat /dev/zero` (one endless line of NULs), while control requests come in. The daemon
 * frames such logs in JavaScript on its own thread, a bounded share per turn of its loop, shared
 * round-robin (lib/log/turn_budget.ts): every log moves, requests are answered, memory stays
 * bounded, and every log is whole stamped lines, in order.
 *
 * What tells this apart from the daemon before the budget (each log framed its whole pipe, 1 MiB,
 * in one go; NULs cost it time quadratic in that; a batch of `y` lines is 14 MiB once stamped):
 * - the RSS the flood adds: 18-20 MB here (the spawns, worker threads, a framing buffer of about
 *   1 MiB per busy log), 57 MB before; the bound is 36 MiB;
 * - a timing bound, generous on purpose: the median of nine `list` round trips under 2 s. Here they
 *   take 2-350 ms (median about 40) on a busy 2-core machine; before, 2 ms-4 s (median about 500:
 *   this bound alone does not catch the old daemon, the RSS does). Counting bytes drained between
 *   replies would not tell the two apart either: both drain as fast as they can, so that count
 *   follows the client's own scheduling delays.
 */

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { daemonTest, type TestDaemon } from "./daemon_helpers.ts";
import { REPO_ROOT, waitFor } from "./helpers.ts";
import { sendRequest } from "../../lib/control/client.ts";
import { PROTOCOL_VERSION } from "../../lib/control/protocol.ts";

const WRITER = `${REPO_ROOT}/tests/fixtures/logs/numbered_writer.ts`;
const DENO = Deno.execPath();
const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z $/;
const STAMP_LEN = 25;
const FLOODS = ["yes1", "yes2", "yes3", "yes4", "yes5", "yes6", "zero1", "zero2"];
const NUMBERED = 20_000;
const LOG_LIMIT = 4 * 1024 * 1024;
const RSS_GROWTH_MAX = 36 * 1024 * 1024;

/** A line of /proc/PID/status in bytes (`VmRSS`, `VmHWM`: the peak). */
function memory(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(
    Deno.readTextFileSync(`/proc/${pid}/status`),
  );
  return Number(m?.[1]) * 1024;
}

/** The lines of a job's log files, oldest first, as bytes (without their newlines). */
function logLines(d: TestDaemon, base: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const name of [`${base}.1`, base]) {
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(`${d.logs}/${name}`);
    } catch {
      continue;
    }
    assert(bytes.length <= LOG_LIMIT, `${name}: ${bytes.length} bytes, over the rotation limit`);
    assert(bytes.length === 0 || bytes[bytes.length - 1] === 10, `${name} ends in a partial line`);
    for (let at = 0, nl = bytes.indexOf(10); nl !== -1; at = nl + 1, nl = bytes.indexOf(10, at)) {
      out.push(bytes.subarray(at, nl));
    }
  }
  return out;
}

const dec = new TextDecoder();
const stamped = (line: Uint8Array) => STAMP.test(dec.decode(line.subarray(0, STAMP_LEN)));

/** What is wrong with the lines of a flood log (`yes`: `y`; `cat /dev/zero`: NULs, cut at 64 KiB). */
function floodProblems(d: TestDaemon, base: string): string[] {
  const lines = logLines(d, base);
  const problems: string[] = [];
  if (lines.length < 10) problems.push(`${base}: only ${lines.length} lines`);
  for (const [i, line] of lines.entries()) {
    const body = line.subarray(STAMP_LEN);
    const ok = stamped(line) &&
      (base.startsWith("yes")
        ? body.length === 1 && body[0] === 0x79
        : body.length > 0 && body.length <= 64 * 1024 && body.every((b) => b === 0));
    if (!ok) {
      problems.push(
        `${base} line ${i} of ${lines.length} (${line.length} bytes): ${
          JSON.stringify(dec.decode(line.subarray(0, 60)))
        }…`,
      );
      break;
    }
  }
  return problems;
}

daemonTest(
  "line-mode logs flooded by yes and cat /dev/zero: requests answered, lines whole and in order",
  (dir) => {
    Deno.mkdirSync(`${dir}/counts`);
    const flood = `log timestamps rfc3339\nlog rotate 4M 1\n`;
    const jobs: Record<string, string> = {};
    for (const job of FLOODS) {
      jobs[job] = `${flood}exec ${job.startsWith("yes") ? "yes" : "cat /dev/zero"}\n`;
    }
    return {
      ...jobs,
      numbered: `log timestamps\nexec ${DENO} run -A ${WRITER} ${dir}/counts ${NUMBERED}\n`,
    };
  },
  async (d) => {
    const pid = d.process!.pid;
    const rssBefore = memory(pid, "VmRSS");
    for (const job of [...FLOODS, "numbered"]) {
      const r = await d.initctl("start", job);
      assertEquals(r.code, 0, r.stderr);
    }
    const size = (base: string) =>
      [base, `${base}.1`].reduce((n, name) => {
        try {
          return n + Deno.statSync(`${d.logs}/${name}`).size;
        } catch {
          return n;
        }
      }, 0);
    // Every log moves (round-robin shares: none starved by the others).
    const logged = () => FLOODS.map((j) => `${j}: ${size(`${j}.log`)}`).join(", ");
    await waitFor(() => FLOODS.every((j) => size(`${j}.log`) > 64 * 1024), "every flood logged")
      .catch((e) => assert(false, `${e.message} (bytes logged: ${logged()})`));
    const ms: number[] = [];
    for (let i = 0; i < 9; i++) {
      const t = performance.now();
      const reply = await sendRequest(d.socket, {
        v: PROTOCOL_VERSION,
        cmd: "list",
        args: [],
        options: {},
      }, 60_000);
      ms.push(Math.round(performance.now() - t));
      assert(reply.ok && /^zero2 start\/running/m.test(reply.out), JSON.stringify(reply));
    }
    const median = [...ms].sort((a, b) => a - b)[4]!;
    assert(median < 2000, `list round trips under the flood (ms): ${ms.join(" ")}`);
    const grown = memory(pid, "VmHWM") - rssBefore;
    assert(grown < RSS_GROWTH_MAX, `the flood added ${grown} bytes of RSS`);
    const counted = () =>
      Deno.readTextFileSync(`${d.dir}/counts/${[...Deno.readDirSync(`${d.dir}/counts`)][0]!.name}`);
    await waitFor(() => Number(counted()) === NUMBERED, "the numbered writer done", 60_000);
    d.process!.kill("SIGTERM"); // stops the jobs, writes out what their pipes hold, exits
    assertEquals((await d.process!.status).code, 0);
    for (const job of FLOODS) assertEquals(floodProblems(d, `${job}.log`), []);
    const numbered = logLines(d, "numbered.log");
    assertEquals(numbered.length, NUMBERED);
    for (const [i, line] of numbered.entries()) {
      const m = / (\d{10}) x{60}$/.exec(dec.decode(line));
      if (!stamped(line) || Number(m?.[1]) !== i) {
        assert(false, `numbered line ${i}: ${JSON.stringify(dec.decode(line))}`);
      }
    }
  },
);
