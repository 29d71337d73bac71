/** Unit tests of planProcess / needsShell: how a job's stanzas become argv, env, cwd and ids. */

import assert from "node:assert/strict";
import { defaultJob, type JobClass } from "../../../lib/job/model.ts";
import { needsShell, type PlanInput, planProcess, shellQuote } from "../../../lib/process/plan.ts";
import { parseGroup, parsePasswd, userDbFrom } from "../../../lib/process/users.ts";

const users = userDbFrom(
  parsePasswd(
    "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/nonexistent:/bin/false\n" +
      "www:x:33:33::/var/www:/bin/false\n",
  ),
  parseGroup("root:x:0:\nnogroup:x:65534:\nssl-cert:x:110:www\nadm:x:4:www,root\n"),
);

function input(over: Partial<JobClass>, extra: Partial<PlanInput> = {}): PlanInput {
  return {
    job: { ...defaultJob("j", ""), console: "none", ...over },
    kind: "main",
    env: { PATH: "/bin" },
    logFile: null,
    users,
    daemonUmask: 0o022,
    ...extra,
  };
}

function plan(over: Partial<JobClass>, extra: Partial<PlanInput> = {}) {
  const r = planProcess(input(over, extra));
  if ("error" in r) throw new Error(r.error);
  return r.plan;
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
  assert.equal(p.uid, undefined);
  assert.deepEqual(p.env, { PATH: "/bin" });
});

Deno.test("planProcess() runs an exec with shell characters as /bin/sh -e -c 'exec CMD'", () => {
  const p = plan({ main: { exec: 'echo "$HOME" > /tmp/x' } });
  assert.deepEqual(p.argv, ["/bin/sh", "-e", "-c", 'exec echo "$HOME" > /tmp/x', "/bin/sh"]);
});

Deno.test("planProcess() runs a script with /bin/sh -e -c BODY", () => {
  const p = plan({ preStart: { script: "echo a\necho b\n" } }, { kind: "preStart" });
  assert.deepEqual(p.argv, ["/bin/sh", "-e", "-c", "echo a\necho b\n", "/bin/sh"]);
});

Deno.test("planProcess() fails for a missing process, an empty exec and a script over 128 KiB", () => {
  assert.deepEqual(planProcess(input({ main: null })), { error: "job has no main process" });
  assert.ok("error" in planProcess(input({ main: { exec: "  " } })));
  const big = planProcess(input({ main: { script: "x".repeat(200_000) } }));
  assert.ok("error" in big && /too long/.test(big.error));
});

Deno.test("planProcess() maps console none/output/owner to stdio without a wrapper", () => {
  assert.equal(plan({ console: "none", main: { exec: "a" } }).stdout, "null");
  const out = plan({ console: "output", main: { exec: "a" } });
  assert.deepEqual([out.stdout, out.stderr, out.argv], ["inherit", "inherit", ["a"]]);
  assert.equal(plan({ console: "owner", main: { exec: "a" } }).stderr, "inherit");
});

Deno.test("planProcess() sends console log through a wrapper that appends both streams", () => {
  const p = plan({ console: "log", main: { exec: "daemon -f" } }, { logFile: "/var/log/it's.log" });
  assert.deepEqual(p.argv, [
    "/bin/sh",
    "-c",
    `exec >>'/var/log/it'\\''s.log' 2>&1\nexec "$@"`,
    "upkeep-exec",
    "daemon",
    "-f",
  ]);
  assert.equal(p.stdout, "null");
});

Deno.test("planProcess() treats console log without a log file as console none", () => {
  const p = plan({ console: "log", main: { exec: "a" } });
  assert.deepEqual([p.argv, p.stdout, p.stderr], [["a"], "null", "null"]);
});

Deno.test("planProcess() folds wrapper steps into a shell target instead of another exec", () => {
  const p = plan({ console: "log", umask: 0o077, main: { script: "echo hi\n" } }, {
    logFile: "/l",
  });
  assert.deepEqual(p.argv, [
    "/bin/sh",
    "-e",
    "-c",
    "exec >>/l 2>&1; umask 0077; echo hi\n",
    "/bin/sh",
  ]);
});

Deno.test("planProcess() skips umask when it equals the supervisor's and sets it otherwise", () => {
  assert.deepEqual(plan({ umask: 0o022, main: { exec: "a" } }).argv, ["a"]);
  assert.match(plan({ umask: 0o7, main: { exec: "a" } }).argv[2]!, /^umask 0007$/m);
});

Deno.test("planProcess() applies limit, nice and oom score in the wrapper, oom failure non-fatal", () => {
  const p = plan({
    main: { exec: "a b" },
    nice: -5,
    oomScore: "never",
    limits: { nofile: { soft: 10, hard: "unlimited" }, core: { soft: 0, hard: 0 } },
  });
  const script = p.argv[2]!;
  assert.match(script, /echo -1000 >\/proc\/self\/oom_score_adj; } 2>\/dev\/null \|\| echo/);
  assert.match(
    script,
    /^exec prlimit --nofile=10:unlimited --core=0:0 -- nice -n -5 -- "\$@"$/m,
  );
  assert.deepEqual(p.argv.slice(3), ["upkeep-exec", "a", "b"]);
});

Deno.test("planProcess() uses Deno's uid/gid for setuid alone, always both", () => {
  const p = plan({ main: { exec: "a" }, setuid: "nobody" });
  assert.deepEqual([p.argv, p.uid, p.gid], [["a"], 65534, 65534]);
  const g = plan({ main: { exec: "a" }, setuid: "nobody", setgid: "adm" });
  assert.deepEqual([g.uid, g.gid], [65534, 4]);
  const onlyGroup = plan({ main: { exec: "a" }, setgid: "nogroup" });
  assert.deepEqual([onlyGroup.uid, onlyGroup.gid], [undefined, 65534]);
});

Deno.test("planProcess() resolves numeric setuid/setgid as ids", () => {
  const p = plan({ main: { exec: "a" }, setuid: "1234", setgid: "99" });
  assert.deepEqual([p.uid, p.gid], [1234, 99]);
});

Deno.test("planProcess() drops privileges last with setpriv when the wrapper runs as root", () => {
  const p = plan({ main: { exec: "a" }, setuid: "nobody", console: "log" }, { logFile: "/l" });
  assert.equal(p.uid, undefined);
  assert.match(p.argv[2]!, /exec setpriv --reuid=65534 --regid=65534 --clear-groups -- "\$@"$/);
});

Deno.test("planProcess() gives a user its supplementary groups as initgroups does", () => {
  const p = plan({ main: { exec: "a" }, setuid: "www" });
  assert.match(p.argv[2]!, /setpriv --reuid=33 --regid=33 --groups=33,110,4 --/);
});

Deno.test("planProcess() fails to plan for an unknown setuid user or setgid group", () => {
  assert.deepEqual(planProcess(input({ main: { exec: "a" }, setuid: "nosuch" })), {
    error: 'setuid user "nosuch" does not exist',
  });
  assert.ok("error" in planProcess(input({ main: { exec: "a" }, setgid: "nosuch" })));
});

Deno.test("planProcess() chroots with chroot(1), dropping ids with --userspec inside", () => {
  const p = plan({ main: { exec: "a" }, chroot: "/srv/jail", setuid: "nobody", chdir: "/data" });
  assert.equal(p.cwd, "/");
  assert.deepEqual(p.argv.slice(0, 2), ["/bin/sh", "-c"]);
  assert.match(
    p.argv[2]!,
    /^exec chroot --userspec=65534:65534 --groups=65534 -- \/srv\/jail \/bin\/sh -c 'cd "\$1" \|\| exit 1; shift; exec "\$@"' upkeep-chdir \/data "\$@"$/,
  );
});

Deno.test("planProcess() uses chdir as the working directory", () => {
  assert.equal(plan({ main: { exec: "a" }, chdir: "/var/lib" }).cwd, "/var/lib");
});

Deno.test("planProcess() merges stdout and stderr into one pipe for upkeep run", () => {
  const p = plan({ main: { exec: "a" }, console: "log" }, { output: "pipe", logFile: "/l" });
  assert.deepEqual([p.stdout, p.stderr], ["piped", "null"]);
  assert.deepEqual(p.argv, ["/bin/sh", "-c", 'exec 2>&1\nexec "$@"', "upkeep-exec", "a"]);
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
