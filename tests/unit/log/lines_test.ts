/** Framing job output into log lines: prefixes, partial lines, markers, cuts, rotation room. */

import { deepEqual, equal } from "node:assert/strict";
import {
  countLines,
  frameLines,
  type FrameOptions,
  indexOfMarker,
  LINE_COST,
  lineBoundary,
  markerRecord,
} from "../../../lib/log/lines.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const opts = (o: Partial<FrameOptions> = {}): FrameOptions => ({
  prefix: enc.encode("T "),
  maxOut: Infinity,
  maxLine: 64,
  cutFirst: false,
  ...o,
});
const frame = (text: string | Uint8Array, o: Partial<FrameOptions> = {}) => {
  const f = frameLines(typeof text === "string" ? enc.encode(text) : text, opts(o));
  return { ...f, text: dec.decode(f.out) };
};
const cat = (...parts: (string | Uint8Array)[]) => {
  const bytes = parts.map((p) => typeof p === "string" ? enc.encode(p) : p);
  const out = new Uint8Array(bytes.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const b of bytes) {
    out.set(b, o);
    o += b.length;
  }
  return out;
};

Deno.test("frameLines() puts the prefix before every whole line and leaves a partial one", () => {
  const f = frame("one\ntwo\nthr");
  equal(f.text, "T one\nT two\n");
  equal(f.used, 8);
  equal(f.lines, 2);
  equal(f.full, false);
});

Deno.test("frameLines() with an empty prefix copies lines as they are", () => {
  equal(frame("a\nb\n", { prefix: new Uint8Array(0) }).text, "a\nb\n");
});

Deno.test("frameLines() writes nothing and takes nothing for a lone partial line", () => {
  const f = frame("no newline yet");
  equal(f.used, 0);
  equal(f.text, "");
});

Deno.test("frameLines() cuts a partial line as long as maxLine (the pipe holds no more)", () => {
  const f = frame("x".repeat(70), { maxLine: 64 });
  equal(f.text, `T ${"x".repeat(64)}\n`);
  equal(f.used, 64);
});

Deno.test("frameLines() with final completes the last partial line", () => {
  const f = frame("a\nrest", { final: true });
  equal(f.text, "T a\nT rest\n");
  equal(f.used, 6);
});

Deno.test("frameLines() turns marker records into upkeep lines, prefixed too", () => {
  const f = frame(cat("out\n", markerRecord("main process (5) started"), "more\n"));
  equal(f.text, "T out\nT upkeep: main process (5) started\nT more\n");
  equal(f.lines, 3);
});

Deno.test("frameLines() completes a partial line that a marker follows, never glued to it", () => {
  const f = frame(cat("partial", markerRecord("main process (5) terminated with status 1")));
  equal(f.text, "T partial\nT upkeep: main process (5) terminated with status 1\n");
});

Deno.test("frameLines() cuts a partial line before a marker at maxLine too", () => {
  const f = frame(cat("x".repeat(100), markerRecord("")), { maxLine: 64 });
  equal(f.text, `T ${"x".repeat(64)}\nT ${"x".repeat(36)}\n`);
});

Deno.test("frameLines(): the empty marker only ends a partial line", () => {
  equal(frame(cat("partial", markerRecord(""), "next\n")).text, "T partial\nT next\n");
  equal(frame(cat("whole\n", markerRecord(""))).text, "T whole\n");
  equal(frame(cat("whole\n", markerRecord(""))).used, 6 + markerRecord("").length);
});

Deno.test("frameLines() keeps a NUL that is not a marker as data", () => {
  const f = frame(cat("a\0b\n", "\0upkeeX\n"));
  equal(f.text, "T a\0b\nT \0upkeeX\n");
});

Deno.test("frameLines() waits for a marker record still incomplete", () => {
  const rec = markerRecord("main process (5) started");
  const f = frame(cat("a\n", rec.subarray(0, 10)));
  equal(f.used, 2);
});

Deno.test("frameLines() stops before a line that would pass maxOut (full: rotate)", () => {
  const f = frame("aaaa\nbbbb\ncccc\n", { maxOut: 14 });
  equal(f.text, "T aaaa\nT bbbb\n");
  equal(f.used, 10);
  equal(f.full, true);
  const none = frame("aaaa\n", { maxOut: 3 });
  deepEqual([none.used, none.full], [0, true]);
});

Deno.test("frameLines() cuts a first line longer than an empty file", () => {
  const f = frame("abcdefghij\n", { maxOut: 8, cutFirst: true });
  equal(f.text, "T abcde\n");
  equal(f.used, 5);
  equal(f.out.length, 8);
});

Deno.test("frameLines() grows its buffer for many short lines (output bigger than input)", () => {
  const input = "a\n".repeat(5000);
  const f = frameLines(enc.encode(input), opts({ prefix: enc.encode("0123456789 ") }));
  equal(f.lines, 5000);
  equal(dec.decode(f.out), "0123456789 a\n".repeat(5000));
});

Deno.test("frameLines() reuses a work buffer between calls", () => {
  const work = { buf: new Uint8Array(0) };
  const a = frameLines(enc.encode("x\n".repeat(100)), opts(), work);
  equal(dec.decode(a.out), "T x\n".repeat(100));
  const b = frameLines(enc.encode("yy\n"), opts(), work);
  equal(dec.decode(b.out), "T yy\n");
});

Deno.test("frameLines() keeps bytes that are not UTF-8 as they are", () => {
  const f = frameLines(new Uint8Array([0xff, 0xfe, 10]), opts());
  deepEqual([...f.out], [...enc.encode("T "), 0xff, 0xfe, 10]);
});

const budgetRows: {
  name: string;
  input: string;
  o: Partial<FrameOptions>;
  text: string;
  used: number;
  cost: number;
}[] = [
  {
    name: "no budget: every whole line, each costing its bytes and LINE_COST",
    input: "aaa\nbb\nc\n",
    o: {},
    text: "T aaa\nT bb\nT c\n",
    used: 9,
    cost: 9 + 3 * LINE_COST,
  },
  {
    name: "stops before the line that would pass the budget",
    input: "aaa\nbb\nc\n",
    o: { budget: 4 + LINE_COST + 3 + LINE_COST - 1 },
    text: "T aaa\n",
    used: 4,
    cost: 4 + LINE_COST,
  },
  {
    name: "a budget just big enough takes the line that reaches it",
    input: "aaa\nbb\nc\n",
    o: { budget: 4 + LINE_COST + 3 + LINE_COST },
    text: "T aaa\nT bb\n",
    used: 7,
    cost: 7 + 2 * LINE_COST,
  },
  {
    name: "the first line is taken whatever the budget (progress)",
    input: "a long first line\nb\n",
    o: { budget: 1 },
    text: "T a long first line\n",
    used: 18,
    cost: 18 + LINE_COST,
  },
  {
    name: "the budget counts empty markers too",
    input: "\0upkeep:\n\0upkeep:\nx\n",
    o: { budget: 9 + LINE_COST },
    text: "",
    used: 9,
    cost: 9 + LINE_COST,
  },
  {
    name: "more: a line whose end is not in view is not cut at maxLine (the caller looks further)",
    input: "done\n" + "x".repeat(100),
    o: { more: true, maxLine: 64 },
    text: "T done\n",
    used: 5,
    cost: 5 + LINE_COST,
  },
  {
    name: "without more, the same partial line is cut at maxLine",
    input: "done\n" + "x".repeat(100),
    o: { maxLine: 64 },
    text: `T done\nT ${"x".repeat(64)}\n`,
    used: 69,
    cost: 69 + 2 * LINE_COST,
  },
];

for (const row of budgetRows) {
  Deno.test(`frameLines() budget: ${row.name}`, () => {
    const f = frame(row.input, row.o);
    deepEqual([f.text, f.used, f.cost], [row.text, row.used, row.cost]);
  });
}

Deno.test("frameLines() cuts an endless line of NULs (cat /dev/zero) at maxLine, in order", () => {
  const zeros = new Uint8Array(1000);
  const f = frame(zeros, { maxLine: 64, prefix: new Uint8Array(0) });
  equal(f.lines, 15);
  equal(f.used, 960);
  equal(f.out.length, 15 * 65);
  for (let i = 0; i < 15; i++) equal(f.out[i * 65 + 64], 10);
  equal(f.out.filter((b) => b !== 0).length, 15);
});

Deno.test("frameLines() finds a marker after a run of NULs (the last NUL starts it)", () => {
  const f = frame(cat(new Uint8Array(10), markerRecord("m")), { maxLine: 64 });
  equal(f.text, `T ${"\0".repeat(10)}\nT upkeep: m\n`);
});

Deno.test("indexOfMarker() from a position: NULs, runs of them, a marker at the end", () => {
  const bytes = cat("a\0b", new Uint8Array(100), markerRecord("x"), "\0upkeep:y\n");
  const first = 4 + 99;
  equal(indexOfMarker(bytes), first);
  equal(indexOfMarker(bytes, first), first);
  equal(indexOfMarker(bytes, first + 1), first + markerRecord("x").length);
  equal(indexOfMarker(bytes, bytes.length - 2), -1);
  equal(indexOfMarker(new Uint8Array(50)), -1);
});

Deno.test("lineBoundary() ends at the last newline within room", () => {
  equal(lineBoundary(enc.encode("ab\ncd\nef"), 100), 6);
  equal(lineBoundary(enc.encode("ab\ncd\nef"), 5), 3);
  equal(lineBoundary(enc.encode("abcdef"), 4), 0);
  equal(lineBoundary(enc.encode("ab\n"), 0), 0);
});

Deno.test("countLines() counts newlines", () => {
  equal(countLines(enc.encode("a\nb\n\nc")), 3);
  equal(countLines(new Uint8Array(0)), 0);
});
