/**
 * The parser never throws and always terminates: random bytes, truncated real files, mutated real
 * files, NUL bytes and a 10 MB line. Seeded, so a failure is reproducible.
 */

import { equal, ok } from "node:assert/strict";
import { parseJob } from "../../../lib/job/parse.ts";
import { formatEventExpr } from "../../../lib/events/print.ts";
import { jobToJson } from "../../../lib/job/json.ts";

const CORPUS = new URL("../../../../shared/upstart-jobs/", import.meta.url).pathname;
const EXAMPLES = new URL("../../../examples/init/", import.meta.url).pathname;

function samples(): string[] {
  const out: string[] = [];
  for (const dir of [CORPUS, EXAMPLES]) {
    try {
      for (const e of Deno.readDirSync(dir)) {
        if (e.name.endsWith(".conf")) out.push(Deno.readTextFileSync(dir + e.name));
      }
    } catch { /* corpus absent: the examples are enough */ }
  }
  return out;
}

/** xorshift32: deterministic random numbers. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

function check(text: string) {
  const r = parseJob(text, { name: "f", file: "f" });
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  equal(r.job === null, errors.length > 0);
  for (const d of r.diagnostics) {
    ok(d.line >= 1 && Number.isInteger(d.line) && d.message.length > 0);
  }
  if (r.job) {
    JSON.stringify(jobToJson(r.job));
    if (r.job.startOn) formatEventExpr(r.job.startOn);
  }
}

const ALPHABET = "  \t\n\n\\\"'#()=!*[]$abcdeonrstxp-0123456789\0\r";
const WORDS = [
  "start on ",
  "stop on ",
  "script\n",
  "end script\n",
  "exec ",
  "respawn limit ",
  "and ",
  "or ",
  "(",
  ")",
  "\\\n",
  "'",
  '"',
  "#",
  "env A=",
  "normal exit ",
  "limit nofile ",
  "health ",
  "pre-start ",
  "kill signal ",
  "oom score ",
  "\n",
  " ",
  "\0",
];

Deno.test("fuzz: random bytes and random stanza soup never throw", () => {
  const r = rng(12345);
  for (let i = 0; i < 3000; i++) {
    let s = "";
    const n = r(200);
    for (let k = 0; k < n; k++) {
      s += r(3) === 0 ? WORDS[r(WORDS.length)] : ALPHABET[r(ALPHABET.length)];
    }
    check(s);
  }
  for (let i = 0; i < 500; i++) {
    const n = r(300);
    check(String.fromCharCode(...Array.from({ length: n }, () => r(256))));
  }
});

Deno.test("fuzz: every truncation and random mutations of real files never throw", () => {
  const r = rng(777);
  for (const text of samples()) {
    for (let cut = 0; cut <= text.length; cut += 7) check(text.slice(0, cut));
    for (let i = 0; i < 40; i++) {
      const chars = [...text];
      for (let k = 0; k < 5; k++) chars[r(chars.length)] = ALPHABET[r(ALPHABET.length)]!;
      check(chars.join(""));
    }
  }
});

Deno.test("fuzz: a 10 MB line, a 10 MB script and NUL-filled files finish quickly", () => {
  const t0 = performance.now();
  const big = "x".repeat(10 * 1024 * 1024);
  check(`description ${big}\n`);
  check(`exec ${big}\n`);
  check(`exec "${big}\n`);
  check(`start on (${"a or ".repeat(200_000)}b)\n`);
  check(`script\n${"  echo x\n".repeat(1_000_000)}end script\n`);
  check("\0".repeat(1_000_000));
  check("\\".repeat(1_000_000));
  check("(".repeat(100_000));
  check(`start on ${"(".repeat(100_000)}`);
  const ms = performance.now() - t0;
  ok(ms < 15_000, `took ${ms} ms`);
});
