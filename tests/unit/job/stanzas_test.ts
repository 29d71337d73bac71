/** Every Upstart stanza: each valid form with its value, each invalid form with its message/line. */

import { classEnv } from "../../../lib/supervisor/environment.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { parseJob } from "../../../lib/job/parse.ts";
import { defaultJob, type JobClass } from "../../../lib/job/model.ts";

function job(text: string, env: Record<string, string> = {}): JobClass {
  const r = parseJob(text, { name: "t", file: "t.conf", env });
  equal(
    r.diagnostics.filter((d) => d.severity === "error").length,
    0,
    JSON.stringify(r.diagnostics),
  );
  ok(r.job);
  return r.job;
}

function errors(text: string): string[] {
  const r = parseJob(text, { name: "t", file: "t.conf" });
  equal(r.job, null, `expected an error for ${JSON.stringify(text)}`);
  return r.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.line}: ${d.message}`);
}

Deno.test("an empty file gives Upstart's defaults", () => {
  deepEqual(job(""), defaultJob("t", "t.conf"));
  deepEqual(job("# only a comment\n\n   \n"), defaultJob("t", "t.conf"));
  const d = defaultJob("t", "t.conf");
  deepEqual(d.respawnLimit, { count: 10, interval: 5 });
  equal(d.killSignal, "TERM");
  equal(d.killTimeout, 5);
  equal(d.reloadSignal, "HUP");
  equal(d.console, "log");
  equal(d.umask, 0o022);
  deepEqual(d.normalExit, []);
});

const VALID: [string, (j: JobClass) => unknown, unknown][] = [
  ["description 'my job'", (j) => j.description, "my job"],
  ['author "A. N. Other <a@b>"', (j) => j.author, "A. N. Other <a@b>"],
  ["version 1.2", (j) => j.version, "1.2"],
  ["usage 'start t N=<n>'", (j) => j.usage, "start t N=<n>"],
  ["instance $N", (j) => j.instance, "$N"],
  ["instance ${TTY:-x}", (j) => j.instance, "${TTY:-x}"],
  ["emits a b*\nemits c", (j) => j.emits, ["a", "b*", "c"]],
  ["export A B\nexport C", (j) => j.export, ["A", "B", "C"]],
  ["env A=1\nenv B='two words'\nenv A=3", (j) => j.env, { A: "3", B: "two words" }],
  ["env A=x=y", (j) => j.env, { A: "x=y" }],
  ["exec /bin/echo a  b", (j) => j.main, { exec: "/bin/echo a  b" }],
  ['exec echo "a # b" # comment', (j) => j.main, { exec: 'echo "a # b"' }],
  ["exec echo a \\\n   b", (j) => j.main, { exec: "echo a b" }],
  ["script\n  echo a\n  echo b\nend script", (j) => j.main, { script: "echo a\necho b\n" }],
  ["script # c\n\techo a\n\t  b\n  end   script  # x", (j) => j.main, { script: "echo a\n  b\n" }],
  ["script\nend script", (j) => j.main, { script: "" }],
  ["exec a\nscript\nb\nend script", (j) => j.main, { script: "b\n" }],
  ["script\nb\nend script\nexec a", (j) => j.main, { exec: "a" }],
  ["pre-start exec /bin/true", (j) => j.preStart, { exec: "/bin/true" }],
  ["post-start script\n x\nend script", (j) => j.postStart, { script: "x\n" }],
  ["pre-stop exec a", (j) => j.preStop, { exec: "a" }],
  ["post-stop exec b", (j) => j.postStop, { exec: "b" }],
  ["task", (j) => j.task, true],
  ["respawn", (j) => j.respawn, true],
  ["respawn # comment", (j) => j.respawn, true],
  ["respawn limit 3 20", (j) => [j.respawn, j.respawnLimit], [false, { count: 3, interval: 20 }]],
  ["respawn limit unlimited", (j) => j.respawnLimit, "unlimited"],
  ["respawn limit 0 5", (j) => j.respawnLimit, "unlimited"],
  ["respawn limit +5 010", (j) => j.respawnLimit, { count: 5, interval: 10 }],
  ["normal exit 0 1 TERM SIGHUP\nnormal exit 2", (j) => j.normalExit, [0, 1, "TERM", "HUP", 2]],
  ["normal exit 300", (j) => j.normalExit, [300]],
  ["expect fork", (j) => j.expect, "fork"],
  ["expect daemon", (j) => j.expect, "daemon"],
  ["expect stop", (j) => j.expect, "stop"],
  ["expect fork\nexpect none", (j) => j.expect, "none"],
  ["kill timeout 30", (j) => j.killTimeout, 30],
  ["kill timeout 0", (j) => j.killTimeout, 0],
  // A time_t: up to 2^63 - 1, as Upstart.
  ["kill timeout 9223372036854775807", (j) => j.killTimeout, 2 ** 63],
  ["respawn limit 5 9007199254740993", (j) => j.respawnLimit, { count: 5, interval: 2 ** 53 }],
  ["kill signal INT", (j) => j.killSignal, "INT"],
  ["kill signal SIGKILL", (j) => j.killSignal, "KILL"],
  ["kill signal 9", (j) => j.killSignal, "KILL"],
  ["kill signal 40", (j) => j.killSignal, "40"],
  ["reload signal USR1", (j) => j.reloadSignal, "USR1"],
  ["console output", (j) => j.console, "output"],
  ["console owner", (j) => j.console, "owner"],
  ["console none", (j) => j.console, "none"],
  ["console log", (j) => j.console, "log"],
  ["chdir /srv", (j) => j.chdir, "/srv"],
  ["chroot /jail", (j) => j.chroot, "/jail"],
  ["setuid nobody", (j) => j.setuid, "nobody"],
  ["setgid nogroup", (j) => j.setgid, "nogroup"],
  ["umask 027", (j) => j.umask, 0o027],
  ["umask 0", (j) => j.umask, 0],
  ["nice -20", (j) => j.nice, -20],
  ["nice 19", (j) => j.nice, 19],
  ["oom score -500", (j) => j.oomScore, -500],
  ["oom score never", (j) => j.oomScore, "never"],
  ["oom score 1000", (j) => j.oomScore, 1000],
  ["oom 10", (j) => j.oomScore, 666],
  ["oom -10", (j) => j.oomScore, -588],
  ["oom -17", (j) => j.oomScore, -1000],
  ["oom never", (j) => j.oomScore, "never"],
  ["limit nofile 1024 unlimited", (j) => j.limits, { nofile: { soft: 1024, hard: "unlimited" } }],
  ["limit core 0 0\nlimit core 1 2", (j) => j.limits, { core: { soft: 1, hard: 2 } }],
  ["limit stack unlimited unlimited\nlimit as 1 2", (j) => Object.keys(j.limits), ["stack", "as"]],
  // Past 2^53 a value is kept exact, as its decimal text; 2^64 - 1 (and -1) is unlimited.
  ["limit stack 9007199254740993 18446744073709551614", (j) => j.limits, {
    stack: { soft: "9007199254740993", hard: "18446744073709551614" },
  }],
  ["limit core 9007199254740991 -1", (j) => j.limits, {
    core: { soft: 9007199254740991, hard: "unlimited" },
  }],
  ["apparmor load /etc/p", (j) => j.apparmorLoad, "/etc/p"],
  ["apparmor switch prof", (j) => j.apparmorSwitch, "prof"],
  ["cgroup memory", (j) => j.cgroups, [{
    controller: "memory",
    name: null,
    key: null,
    value: null,
  }]],
  ["cgroup cpu grp", (j) => j.cgroups, [{
    controller: "cpu",
    name: "grp",
    key: null,
    value: null,
  }]],
  ["cgroup cpu k v", (j) => j.cgroups, [{ controller: "cpu", name: null, key: "k", value: "v" }]],
  ["cgroup cpu n k v", (j) => j.cgroups, [{ controller: "cpu", name: "n", key: "k", value: "v" }]],
  ["debug", (j) => j.debug, true],
  ["start on a\nmanual", (j) => [j.startOn, j.manual], [null, true]],
  ["manual\nstart on a", (j) => [j.startOn?.type, j.manual], ["event", false]],
  ["manual # comment", (j) => j.manual, true],
  ["start on a\nstart on b", (j) => j.startOn, { type: "event", name: "b", args: [] }],
  ["stop on x", (j) => j.stopOn, { type: "event", name: "x", args: [] }],
  ["description foo#bar", (j) => j.description, "foo"],
  ["description 'a#b'", (j) => j.description, "a#b"],
  ["description a\\ b", (j) => j.description, "a b"],
  ['description "multi\n   line"', (j) => j.description, "multi line"],
  ["  \t description indented", (j) => j.description, "indented"],
  ["description x\r\n", (j) => j.description, "x"],
];

for (const [text, get, want] of VALID) {
  Deno.test(`stanza ${JSON.stringify(text)} parses to ${JSON.stringify(want)}`, () => {
    deepEqual(get(job(text)), want);
  });
}

Deno.test("env KEY copies init's value, and takes KEY out when init has none (Upstart)", () => {
  const j = job("env HOME\nenv NOPE", { HOME: "/root" });
  deepEqual(j.env, { HOME: "/root" });
  deepEqual(j.envUnset, ["NOPE"]);
  // The last stanza of a key wins, in either direction.
  const k = job("env A=1\nenv A\nenv B\nenv B=2", {});
  deepEqual([k.env, k.envUnset], [{ B: "2" }, ["A"]]);
  // What env KEY takes out is gone from the job environment, set-env values included.
  deepEqual(classEnv(j, { PATH: "/bin", NOPE: "set-env" }), { PATH: "/bin", HOME: "/root" });
});

const INVALID: [string, string[]][] = [
  ["Respawn", ["1: Unknown stanza"]],
  ['"respawn"', ["1: Unknown stanza"]],
  ["frobnicate 1", ["1: Unknown stanza"]],
  // The line libnih has reached past the name and a continuation after it.
  ["\\\n", ["2: Unknown stanza"]],
  ["frob \\\n  x", ["2: Unknown stanza"]],
  ["end script", ["1: Unknown stanza"]],
  ["description", ["1: Expected token"]],
  ["description a b", ["1: Unexpected token"]],
  ['description "a', ["1: Unterminated quoted string"]],
  ["description a\\", ["1: Trailing slash in file"]],
  ["instance", ["1: Expected token"]],
  ["emits", ["1: Expected token"]],
  ["export", ["1: Expected token"]],
  ["env", ["1: Expected token"]],
  ["env A=1 B=2", ["1: Unexpected token"]],
  ["exec", ["1: Expected token"]],
  ["exec # only a comment", ["1: Expected token"]],
  ["script foo\n echo\nend script", ["1: Unexpected token"]],
  ["script\n echo", ["2: Unterminated block"]],
  ["script\n echo\n\n", ["4: Unterminated block"]],
  ['description "a\n\nexec x\n', ["4: Unterminated quoted string"]],
  ["pre-start", ["1: Expected token"]],
  ["pre-start foo", ["1: Unknown stanza"]],
  ["post-stop exec", ["1: Expected token"]],
  ["start", ["1: Expected token"]],
  ["start foo", ["1: Unknown stanza"]],
  ["start on", ["1: Expected token"]],
  ['stop "on" x', ["1: Unknown stanza"]],
  ["manual foo", ["1: Unknown stanza"]],
  ["task foo", ["1: Unexpected token"]],
  ["respawn foo", ["1: Unknown stanza"]],
  ["respawn limit", ["1: Expected token"]],
  ["respawn limit 5", ["1: Expected token"]],
  ["respawn limit x 5", ["1: Illegal limit, expected 'unlimited' or integer"]],
  ["respawn limit -1 5", ["1: Illegal limit, expected 'unlimited' or integer"]],
  ["respawn limit 5 x", ["1: Illegal interval, expected number of seconds"]],
  ["respawn limit 5 -1", ["1: Illegal interval, expected number of seconds"]],
  ["respawn limit 5 5 5", ["1: Unexpected token"]],
  ["normal", ["1: Expected token"]],
  ["normal foo 1", ["1: Unknown stanza"]],
  ["normal exit", ["1: Expected token"]],
  ["normal exit -1", ["1: Illegal exit status, expected integer"]],
  ["normal exit 99foo", ["1: Illegal exit status, expected integer"]],
  ["normal exit 2147483648", ["1: Illegal exit status, expected integer"]],
  ["normal exit FOO", ["1: Illegal exit status, expected integer"]],
  ["expect", ["1: Expected token"]],
  ["expect forks", ["1: Unknown stanza"]],
  ["kill", ["1: Expected token"]],
  ["kill foo", ["1: Unknown stanza"]],
  ["kill timeout", ["1: Expected token"]],
  ["kill timeout -1", ["1: Illegal interval, expected number of seconds"]],
  ["kill timeout 5s", ["1: Illegal interval, expected number of seconds"]],
  ["kill timeout 99999999999999999999", ["1: Illegal interval, expected number of seconds"]],
  ["kill timeout 9223372036854775808", ["1: Illegal interval, expected number of seconds"]],
  ["kill signal FOO", ["1: Illegal signal status, expected integer"]],
  ["kill signal -1", ["1: Illegal signal status, expected integer"]],
  // glibc 2.26 dropped SIGUNUSED, and Upstart built on it does not know the name.
  ["kill signal UNUSED", ["1: Illegal signal status, expected integer"]],
  ["reload", ["1: Expected token"]],
  ["reload timeout 5", ["1: Unknown stanza"]],
  ["reload signal BOGUS", ["1: Illegal signal status, expected integer"]],
  ["console", ["1: Expected token"]],
  ["console tty", ["1: Unknown stanza"]],
  ["umask 999", ["1: Illegal file creation mask, expected octal integer"]],
  ["umask 1000", ["1: Illegal file creation mask, expected octal integer"]],
  ["umask -1", ["1: Illegal file creation mask, expected octal integer"]],
  ["umask abc", ["1: Illegal file creation mask, expected octal integer"]],
  ["nice 20", ["1: Illegal nice value, expected -20 to 19"]],
  ["nice -21", ["1: Illegal nice value, expected -20 to 19"]],
  ["nice x", ["1: Illegal nice value, expected -20 to 19"]],
  ["oom", ["1: Expected token"]],
  ["oom 16", ["1: Illegal oom adjustment, expected -16 to 15 or 'never'"]],
  ["oom -18", ["1: Illegal oom adjustment, expected -16 to 15 or 'never'"]],
  ["oom score", ["1: Expected token"]],
  ["oom score 1001", ["1: Illegal oom score adjustment, expected -999 to 1000 or 'never'"]],
  ["oom score -1001", ["1: Illegal oom score adjustment, expected -999 to 1000 or 'never'"]],
  ["limit", ["1: Expected token"]],
  ["limit bogus 1 2", ["1: Unknown stanza"]],
  ["limit nofile 1", ["1: Expected token"]],
  ["limit nofile x 1", ["1: Illegal limit, expected 'unlimited' or integer"]],
  ["limit nofile 1 y", ["1: Illegal limit, expected 'unlimited' or integer"]],
  ["apparmor", ["1: Expected token"]],
  ["apparmor unload x", ["1: Unknown stanza"]],
  ["apparmor load", ["1: Expected token"]],
  ["cgroup", ["1: Expected token"]],
  ["cgroup a b c d e", ["1: Unexpected token"]],
  ["chdir", ["1: Expected token"]],
  ["setuid a b", ["1: Unexpected token"]],
];

for (const [text, want] of INVALID) {
  Deno.test(`stanza ${JSON.stringify(text)} is rejected with ${want.join(", ")}`, () => {
    deepEqual(errors(text), want);
  });
}

Deno.test("every error in a file is reported, each with its own line", () => {
  const text = [
    "description ok", // 1
    "nice 99", // 2
    "respawn", // 3
    "bogus stanza here", // 4
    "script extra", // 5
    "  not a stanza", // 6
    "end script", // 7
    "kill timeout x", // 8
    "start on (a or", // 9
    "  b c or", // 10
    "  and d)", // 11
    "umask 8", // 12
  ].join("\n");
  deepEqual(errors(text), [
    "2: Illegal nice value, expected -20 to 19",
    "4: Unknown stanza",
    "5: Unexpected token",
    "8: Illegal interval, expected number of seconds",
    "11: Expected event",
    "12: Illegal file creation mask, expected octal integer",
  ]);
});

Deno.test("error lines count continuation lines and quoted newlines", () => {
  deepEqual(errors("description 'a\nb'\nnice \\\n 50\n"), [
    "4: Illegal nice value, expected -20 to 19",
  ]);
  deepEqual(errors("script\n x\nend script\n\n\nbogus"), ["6: Unknown stanza"]);
});

Deno.test("a value error on a continued line reports the line of the value", () => {
  deepEqual(errors("limit nofile \\\n  1 \\\n  x"), [
    "3: Illegal limit, expected 'unlimited' or integer",
  ]);
});
