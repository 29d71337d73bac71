/** parseInitctlArgs() and checkArguments(): initctl's command line as Upstart's initctl reads it. */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { checkArguments, parseInitctlArgs } from "../../../lib/cli/initctl_args.ts";

const argsOf = (argv: string[]) => {
  const r = parseInitctlArgs(argv, "initctl");
  return r.kind === "run" ? r.parsed.args : r;
};

const run = (argv: string[], program = "initctl") => {
  const r = parseInitctlArgs(argv, program);
  if (r.kind !== "run") return r;
  const p = r.parsed;
  return [p.command, p.args, p.options, p.quiet, p.socket] as const;
};

Deno.test("parseInitctlArgs() takes global options before the command, its own after", () => {
  assertEquals(run(["start", "-n", "a"]), ["start", ["a"], { noWait: true }, false, null]);
  assertEquals(run(["start", "a", "--no-wait"]), ["start", ["a"], { noWait: true }, false, null]);
  assertEquals(run(["-q", "status", "a"]), ["status", ["a"], {}, true, null]);
  assertEquals(run(["--socket", "/s", "list"]), ["list", [], {}, false, "/s"]);
  assertEquals(run(["list", "--socket=/s"]), ["list", [], {}, false, "/s"]);
  assertEquals(run(["stop", "-nq", "a"]), ["stop", ["a"], { noWait: true }, true, null]);
  assertEquals(run(["check-config", "-ia,b", "-w", "j"]), [
    "check-config",
    ["j"],
    { ignoreEvents: ["a", "b"], warn: true },
    false,
    null,
  ]);
  assertEquals(argsOf(["check-config", "-i", "x", "j"]), ["j"]);
  assertEquals(argsOf(["emit", "--", "-x", "A=1"]), ["-x", "A=1"]);
  assertEquals(argsOf(["emit", "foo", "-"]), ["foo", "-"]);
});

Deno.test("parseInitctlArgs() reports what libnih reports", () => {
  const usage = (message: string) => ({ kind: "usage", message });
  assertEquals(run(["--no-wait", "start", "a"]), usage("invalid option: --no-wait"));
  assertEquals(run(["-x", "list"]), usage("invalid option: -x"));
  assertEquals(run(["list", "-n"]), usage("invalid option: -n"));
  assertEquals(run(["start", "--no-wait=1", "a"]), usage("unexpected argument: --no-wait=1"));
  assertEquals(run(["check-config", "-i"]), usage("missing argument: -i"));
  assertEquals(run([]), usage("missing command"));
  assertEquals(run(["frob"]), usage("invalid command: frob"));
  assertEquals(run(["start", "--help"]), { kind: "print", what: "help" });
  assertEquals(run(["--version"]), { kind: "print", what: "version" });
  assertEquals(run(["help"]), { kind: "print", what: "help" });
});

Deno.test("parseInitctlArgs() makes the program name the command for the shortcuts", () => {
  assertEquals(run(["-n", "a"], "start"), ["start", ["a"], { noWait: true }, false, null]);
  assertEquals(run(["list"], "status"), ["status", ["list"], {}, false, null]);
  assertEquals(run(["-x"], "stop"), { kind: "usage", message: "invalid option: -x" });
});

Deno.test("checkArguments() needs a job name unless called from inside a job", () => {
  const check = (argv: string[], env: Record<string, string>) => {
    const r = parseInitctlArgs(argv, "initctl");
    if (r.kind !== "run") throw new Error("not run");
    const problem = checkArguments(r.parsed, (k) => env[k]);
    return problem ?? r.parsed.options;
  };
  assertEquals(check(["status"], {}), "missing job name");
  assertEquals(check(["stop"], { UPSTART_JOB: "a" }), "missing job name");
  assertEquals(check(["stop"], { UPSTART_JOB: "a", UPSTART_INSTANCE: "" }), {
    self: { job: "a", instance: "" },
  });
  assertEquals(check(["emit"], {}), "missing event name");
  assertEquals(check(["set-env"], {}), "missing variable value");
  assertEquals(check(["get-env"], {}), "missing variable name");
  assertEquals(check(["unset-env"], {}), "missing variable name");
  // Env commands act on the calling job's environment unless -g.
  assertEquals(check(["get-env", "X"], { UPSTART_JOB: "a", UPSTART_INSTANCE: "i" }), {
    job: "a",
    instance: "i",
  });
  assertEquals(check(["get-env", "-g", "X"], { UPSTART_JOB: "a", UPSTART_INSTANCE: "i" }), {
    global: true,
  });
  assertEquals(check(["list-env"], {}), {});
});
