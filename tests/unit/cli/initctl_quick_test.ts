/**
 * quickParse (lib/cli/initctl.ts) against the full parser: every command line it reads, over every
 * sequence of up to three words from a list of awkward ones and many longer random ones, must be
 * parsed by parseInitctlArgs to the same thing and pass checkArguments unchanged, with or without
 * a calling job in the environment. And the command lines that matter most must take it.
 */

import assert from "node:assert/strict";
import { quickParse } from "../../../lib/cli/initctl.ts";
import { checkArguments, type Parsed, parseInitctlArgs } from "../../../lib/cli/initctl_args.ts";

const WORDS = [
  "--socket",
  "/s",
  "--socket=/t",
  "--socket=",
  "--socket=-x",
  "--timeout",
  "5",
  "1.5",
  "--timeout=2",
  "--timeout=x",
  "-q",
  "--quiet",
  "--quiet=1",
  "-n",
  "--no-wait",
  "--json",
  "--system",
  "-",
  "--",
  "-qn",
  "--help",
  "-h",
  "status",
  "start",
  "stop",
  "reload",
  "restart",
  "emit",
  "list",
  "help",
  "a",
  "K=V",
];

const PROGRAMS = ["initctl", "start", "stop", "restart", "reload", "status"];

const NO_ENV = () => undefined;
const IN_JOB = (name: string) =>
  name === "UPSTART_JOB" ? "caller" : name === "UPSTART_INSTANCE" ? "" : undefined;

/** Checks one command line; true when quickParse read it. */
function agree(words: string[], program: string): boolean {
  const argv = program === "initctl" ? words : [program, ...words];
  const quick = quickParse(argv, program);
  if (quick === null) return false;
  const full = parseInitctlArgs(words, program);
  const line = `${program} ${JSON.stringify(words)}`;
  assert.equal(full.kind, "run", line);
  const parsed = (full as { parsed: Parsed }).parsed;
  assert.deepEqual(quick, parsed, line);
  for (const env of [NO_ENV, IN_JOB]) {
    const copy = structuredClone(parsed);
    assert.equal(checkArguments(copy, env), null, line);
    assert.deepEqual(copy, parsed, line);
  }
  return true;
}

Deno.test("quickParse() reads a command line only as the full parser does (every line of up to 3 words)", () => {
  let read = 0;
  const lines: string[][] = [[]];
  for (let len = 1; len <= 3; len++) {
    for (const line of lines.filter((l) => l.length === len - 1)) {
      for (const w of WORDS) lines.push([...line, w]);
    }
  }
  for (const program of PROGRAMS) {
    for (const line of lines) if (agree(line, program)) read++;
  }
  assert.ok(read > 500, `quickParse read only ${read} lines`);
});

Deno.test("quickParse() reads a command line only as the full parser does (longer random lines)", () => {
  let seed = 0x9e3779b9;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  let read = 0;
  for (let k = 0; k < 40_000; k++) {
    const words = Array.from({ length: 4 + next(5) }, () => WORDS[next(WORDS.length)]!);
    if (agree(words, PROGRAMS[next(PROGRAMS.length)]!)) read++;
  }
  assert.ok(read > 100, `quickParse read only ${read} lines`);
});

Deno.test("quickParse() takes the command lines scripts run most", () => {
  const cases: [string, string[]][] = [
    ["initctl", ["status", "a"]],
    ["initctl", ["--socket", "/run/u.sock", "status", "a"]],
    ["initctl", ["--socket=/run/u.sock", "status", "a", "N=1"]],
    ["initctl", ["start", "-n", "a", "PORT=1"]],
    ["initctl", ["stop", "a", "--no-wait"]],
    ["initctl", ["-q", "restart", "a"]],
    ["initctl", ["reload", "a"]],
    ["initctl", ["emit", "ev", "K=V", "--timeout", "5"]],
    ["initctl", ["status", "--json", "a"]],
    ["initctl", ["list"]],
    ["initctl", ["--socket", "/run/u.sock", "list", "--json"]],
    ["status", ["status", "a"]],
    ["start", ["start", "a"]],
  ];
  for (const [program, argv] of cases) {
    const words = program === "initctl" ? argv : argv.slice(1);
    assert.ok(agree(words, program), `${program} ${argv.join(" ")}`);
  }
  // Lines it leaves to the full parser: help, other commands, a missing name, `--`.
  for (
    const argv of [["--help"], ["version"], ["status"], ["status", "--", "a"], [
      "--system",
      "status",
      "a",
    ]]
  ) {
    assert.equal(quickParse(argv, "initctl"), null, argv.join(" "));
  }
});
