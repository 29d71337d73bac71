/** Unit tests of planProcess / needsShell: how a job's stanzas become argv, env, cwd and ids. */

import assert from "node:assert/strict";
import { defaultJob, type JobClass } from "../../../lib/job/model.ts";
import {
  helperIdentity,
  needsShell,
  type PlanInput,
  planProcess,
  type SetupSpec,
  shellQuote,
} from "../../../lib/process/plan.ts";
import { parseEnvBlock, parseExecJobArgs } from "../../../lib/process/exec_job.ts";
import { parseGroup, parsePasswd, userDbFrom } from "../../../lib/process/users.ts";

const users = userDbFrom(
  parsePasswd(
    "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/nonexistent:/bin/false\n" +
      "www:x:33:33::/var/www:/bin/false\n",
  ),
  parseGroup("root:x:0:\nnogroup:x:65534:\nssl-cert:x:110:www\nadm:x:4:www,root\n"),
);

const HELPER = { argv: ["/opt/upkeep"], env: { NO_COLOR: "1" } };

function input(over: Partial<JobClass>, extra: Partial<PlanInput> = {}): PlanInput {
  return {
    job: { ...defaultJob("j", ""), console: "none", ...over },
    kind: "main",
    env: { PATH: "/bin" },
    logFile: null,
    users,
    daemonUmask: 0o022,
    helper: HELPER,
    ...extra,
  };
}

function plan(over: Partial<JobClass>, extra: Partial<PlanInput> = {}) {
  const r = planProcess(input(over, extra));
  if ("error" in r) throw new Error(r.error);
  return r.plan;
}

/** The helper's spec, env and program of a helper plan (as the helper itself parses them). */
function helperParts(p: { argv: readonly string[]; stdin?: Uint8Array }) {
  assert.deepEqual(p.argv.slice(0, 2), ["/opt/upkeep", "exec-job"]);
  const r = parseExecJobArgs(p.argv.slice(2));
  assert.ok(p.stdin, "the environment goes on the helper's stdin");
  return { spec: r.spec as unknown as SetupSpec, env: parseEnvBlock(p.stdin), argv: r.argv };
}

Deno.test("needsShell() is true for each of Upstart's shell characters and false otherwise", () => {
  for (const c of "~`!$^&*()=|\\{}[];\"'<>?") assert.equal(needsShell(`echo a${c}b`), true, c);
  assert.equal(needsShell("/usr/bin/sleep 100 --flag -x /a/b.c,d:e@f%g+h#i"), false);
});

Deno.test("planProcess() runs a plain exec directly, split on whitespace, without quote processing", () => {
  const p = plan({ main: { exec: "sleep\t 100  x" } });
  assert.deepEqual(p.argv, ["sleep", "100", "x"]);
  assert.equal(p.cwd, "/");
  assert.equal(p.stdout, "null");
  assert.equal(p.helper, false);
  assert.deepEqual(p.env, { PATH: "/bin" });
});

Deno.test("planProcess() runs an exec with shell characters as /bin/sh -e -c 'exec CMD'", () => {
  const p = plan({ main: { exec: 'echo "$HOME" > /tmp/x' } });
  assert.deepEqual(p.argv, ["/bin/sh", "-e", "-c", 'exec echo "$HOME" > /tmp/x', "/bin/sh"]);
});

Deno.test("planProcess() runs a script of several lines from fd 9, as Upstart", () => {
  const p = plan({ preStart: { script: "echo a\necho b\n" } }, { kind: "preStart" });
  assert.deepEqual(p.argv, ["/bin/sh", "-e", "/proc/self/fd/9"]);
  assert.equal(p.script, "exec 9<&-\necho a\necho b\n");
  // Through the helper too (it keeps fd 9 open for the program it execs).
  const h = plan({ main: { script: "a\n\nb\n" }, nice: 1 });
  assert.equal(h.script, "exec 9<&-\na\n\nb\n");
  assert.deepEqual(helperParts(h).argv, ["/bin/sh", "-e", "/proc/self/fd/9"]);
});

Deno.test("planProcess() runs a one-line script with -c, without its trailing newlines", () => {
  const p = plan({ main: { script: "echo a\n\n\n" } });
  assert.deepEqual(p.argv, ["/bin/sh", "-e", "-c", "echo a", "/bin/sh"]);
  assert.equal(p.script, undefined);
  assert.deepEqual(plan({ main: { script: "\necho a\n" } }).argv[2], "/proc/self/fd/9");
});

Deno.test("planProcess() passes every script with -c for upkeep run and in a chroot", () => {
  const run = plan({ main: { script: "a\nb\n" } }, { output: "pipe" });
  assert.deepEqual(run.argv.slice(-5), ["/bin/sh", "-e", "-c", "a\nb\n", "/bin/sh"]);
  assert.equal(run.script, undefined);
  const chroot = helperParts(plan({ main: { script: "a\nb\n" }, chroot: "/srv" }));
  assert.deepEqual(chroot.argv, ["/bin/sh", "-e", "-c", "a\nb\n", "/bin/sh"]);
});

Deno.test("planProcess() fails for a missing process, an empty exec and a line over 128 KiB", () => {
  assert.deepEqual(planProcess(input({ main: null })), { error: "job has no main process" });
  assert.ok("error" in planProcess(input({ main: { exec: "  " } })));
  const big = planProcess(input({ main: { script: "x".repeat(200_000) } }));
  assert.ok("error" in big && /too long/.test(big.error));
  // Several lines go through fd 9: no argv limit.
  assert.ok("plan" in planProcess(input({ main: { script: "x\n".repeat(100_000) } })));
});

Deno.test("planProcess() maps console none/output/owner to stdio without a helper", () => {
  assert.equal(plan({ console: "none", main: { exec: "a" } }).stdout, "null");
  const out = plan({ console: "output", main: { exec: "a" } });
  assert.deepEqual([out.stdout, out.stderr, out.argv], ["inherit", "inherit", ["a"]]);
  assert.equal(plan({ console: "owner", main: { exec: "a" } }).stderr, "inherit");
});

Deno.test("planProcess() hands console log's file to the spawner, no shell involved", () => {
  const p = plan({ console: "log", main: { exec: "daemon -f" } }, { logFile: "/var/log/it's.log" });
  assert.deepEqual(p.argv, ["daemon", "-f"]);
  assert.equal(p.logFile, "/var/log/it's.log");
  assert.equal(p.helper, false);
});

Deno.test("planProcess() treats console log without a log file as console none", () => {
  const p = plan({ console: "log", main: { exec: "a" } });
  assert.deepEqual([p.argv, p.stdout, p.stderr, p.logFile], [["a"], "null", "null", undefined]);
});

Deno.test("planProcess() skips umask when it equals the supervisor's and sets it otherwise", () => {
  assert.deepEqual(plan({ umask: 0o022, main: { exec: "a" } }).argv, ["a"]);
  assert.equal(helperParts(plan({ umask: 0o7, main: { exec: "a" } })).spec.umask, 0o7);
});

Deno.test("planProcess() gives limit, nice, oom score and umask to the helper, env apart", () => {
  const p = plan({
    console: "log",
    main: { script: "echo hi\n" },
    umask: 0o077,
    nice: -5,
    oomScore: "never",
    limits: { nofile: { soft: 10, hard: "unlimited" }, core: { soft: 0, hard: 0 } },
  }, { logFile: "/l", env: { PATH: "/bin", A: "x=y" } });
  assert.deepEqual([p.helper, p.logFile, p.cwd], [true, "/l", "/"]);
  assert.deepEqual(p.env, HELPER.env);
  const { spec, env, argv } = helperParts(p);
  assert.deepEqual(spec.limits, [["nofile", 10, -1], ["core", 0, 0]]);
  assert.deepEqual([spec.umask, spec.nice, spec.oomScore], [0o077, -5, -1000]);
  assert.deepEqual([spec.uid, spec.gid, spec.groups, spec.chroot], [null, null, null, null]);
  assert.deepEqual([spec.errorFd, spec.mergeStderr], [true, false]);
  assert.equal(spec.what, "j main process");
  assert.deepEqual(env, ["PATH=/bin", "A=x=y"]);
  assert.deepEqual(argv, ["/bin/sh", "-e", "-c", "echo hi", "/bin/sh"]);
});

Deno.test("planProcess() restores the daemon's original open-files limit before the job's own", () => {
  const base = { baseNofile: { soft: 1024, hard: 4096 } };
  assert.deepEqual(plan({ main: { exec: "a" } }, base).argv, ["a"]); // the spawner sets it
  const niced = helperParts(plan({ main: { exec: "a" }, nice: 1 }, base));
  assert.deepEqual(niced.spec.limits, [["nofile", 1024, 4096]]);
  const own = plan({ main: { exec: "a" }, limits: { nofile: { soft: 5, hard: 6 } } }, base);
  assert.deepEqual(helperParts(own).spec.limits, [["nofile", 5, 6]]);
});

Deno.test("planProcess() passes limits past 2^53 to the helper exactly, as decimal text", () => {
  const p = plan({
    main: { exec: "a" },
    limits: { stack: { soft: "9007199254740993", hard: "18446744073709551614" } },
  });
  assert.deepEqual(helperParts(p).spec.limits, [
    ["stack", "9007199254740993", "18446744073709551614"],
  ]);
});

Deno.test("planProcess() drops to the setuid user with initgroups' groups, setgid first", () => {
  const p = helperParts(plan({ main: { exec: "a" }, setuid: "nobody" })).spec;
  assert.deepEqual([p.uid, p.gid, p.groups], [65534, 65534, [65534]]);
  const www = helperParts(plan({ main: { exec: "a" }, setuid: "www" })).spec;
  assert.deepEqual(www.groups, [33, 110, 4]);
  const g = helperParts(plan({ main: { exec: "a" }, setuid: "www", setgid: "adm" })).spec;
  assert.deepEqual([g.uid, g.gid, g.groups], [33, 4, [4, 110]]);
  // setgid alone: Upstart's initgroups("root", gid), root being in adm.
  const onlyGroup = helperParts(plan({ main: { exec: "a" }, setgid: "nogroup" })).spec;
  assert.deepEqual([onlyGroup.uid, onlyGroup.gid, onlyGroup.groups], [null, 65534, [65534, 4]]);
});

Deno.test("planProcess() resolves numeric setuid/setgid as ids", () => {
  const p = helperParts(plan({ main: { exec: "a" }, setuid: "1234", setgid: "99" })).spec;
  assert.deepEqual([p.uid, p.gid], [1234, 99]);
});

Deno.test("planProcess() never names a program for the privileged steps, only the job's own", () => {
  const p = plan({
    main: { exec: "a" },
    setuid: "nobody",
    limits: { nofile: { soft: 1, hard: 2 } },
    nice: 1,
    chroot: "/srv",
  });
  const { argv } = helperParts(p);
  assert.deepEqual(argv, ["a"]);
  for (const tool of ["setpriv", "prlimit", "nice", "chroot", "/bin/sh"]) {
    assert.ok(!p.argv.includes(tool), tool);
  }
});

Deno.test("planProcess() fails to plan for an unknown setuid user or setgid group", () => {
  assert.deepEqual(planProcess(input({ main: { exec: "a" }, setuid: "nosuch" })), {
    error: 'setuid user "nosuch" does not exist',
  });
  assert.ok("error" in planProcess(input({ main: { exec: "a" }, setgid: "nosuch" })));
});

Deno.test("planProcess() chroots in the helper, then changes to chdir inside the new root", () => {
  const p = plan({ main: { exec: "a" }, chroot: "/srv/jail", setuid: "nobody", chdir: "/data" });
  assert.equal(p.cwd, "/");
  const { spec } = helperParts(p);
  assert.deepEqual([spec.chroot, spec.chdir, spec.uid], ["/srv/jail", "/data", 65534]);
});

Deno.test("planProcess() uses chdir as the working directory", () => {
  assert.equal(plan({ main: { exec: "a" }, chdir: "/var/lib" }).cwd, "/var/lib");
});

Deno.test("planProcess() merges stdout and stderr into one pipe for upkeep run", () => {
  const p = plan({ main: { exec: "a" }, console: "log" }, { output: "pipe", logFile: "/l" });
  assert.deepEqual([p.stdout, p.stderr, p.logFile], ["piped", "null", undefined]);
  assert.deepEqual(p.argv, ["/bin/sh", "-c", 'exec 2>&1; exec "$@"', "upkeep-exec", "a"]);
  const s = helperParts(plan({ main: { exec: "a" }, nice: 2 }, { output: "pipe" })).spec;
  assert.deepEqual([s.mergeStderr, s.errorFd], [true, false]);
});

Deno.test("shellQuote() leaves safe words bare and single-quotes the rest", () => {
  assert.equal(shellQuote("--nofile=1:2"), "--nofile=1:2");
  assert.equal(shellQuote("a b"), "'a b'");
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});

Deno.test("planProcess() runs an exact argv for upkeep run's COMMAND form", () => {
  const p = plan({ main: null }, { command: ["printf", "%s\n", "a b"] });
  assert.deepEqual(p.argv, ["printf", "%s\n", "a b"]);
});

Deno.test("helperIdentity() reads the ids a set-up helper will take from its command line", () => {
  const p = plan({ main: { exec: "a" }, setuid: "www", setgid: "adm" });
  assert.deepEqual(helperIdentity(p.argv), { uid: 33, gid: 4 });
  assert.deepEqual(helperIdentity(plan({ main: { exec: "a" }, nice: 1 }).argv), { uid: 0, gid: 0 });
  assert.equal(helperIdentity(["sleep", "1000"]), null);
  assert.equal(helperIdentity(["x", "exec-job", "{not json"]), null);
});
