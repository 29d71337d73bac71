/**
 * Deliberate differences from Upstart: each scenario states upkeep's transcript (Upstart's must
 * differ). Every one is listed with its reason in docs/upstart-differences.md.
 */

import { VERSION } from "../../../lib/version.ts";
import { commandHelp, HELP } from "../../../lib/cli/initctl_help.ts";
import {
  as,
  awaitStatus,
  codeOnly,
  file,
  initctl,
  job,
  recorder,
  type Scenario,
  waitFile,
} from "../scenario.ts";

export const DELIBERATE: Scenario[] = [
  {
    name: "deliberate: version names upkeep and the Upstart version it follows",
    jobs: {},
    steps: [initctl("version"), initctl("--version")],
    deliberate: {
      reason: "upkeep is not Upstart; scripts that look for 'upstart 1.13.2' still find it",
      upkeep: `$ initctl version
init (upkeep ${VERSION}; upstart 1.13.2 compatible)
$ initctl --version
initctl (upkeep ${VERSION}; upstart 1.13.2 compatible)`,
    },
  },
  {
    name: "deliberate: a job file that stops parsing keeps its last good definition",
    jobs: { a: "exec sleep 1000\n" },
    steps: [
      initctl("start", "a"),
      job("a", "exec sleep 1000\nfrobnicate\n"),
      initctl("reload-configuration"),
      initctl("stop", "a"),
      initctl("start", "a"),
      initctl("stop", "a"),
      job("a", null),
      initctl("reload-configuration"),
      initctl("status", "a"),
    ],
    deliberate: {
      reason: "a typo in a job file never stops a running service from being managed",
      upkeep: `$ initctl start a
a start/running, process PID1
# wrote job a
$ initctl reload-configuration
$ initctl stop a
a stop/waiting
$ initctl start a
a start/running, process PID2
$ initctl stop a
a stop/waiting
# removed job a
$ initctl reload-configuration
$ initctl status a
! initctl: Unknown job: a
[exit 1]`,
    },
  },
  {
    name: "deliberate: console log is written without a pty (no CR before LF)",
    jobs: { a: "task\nexec echo hello\n" },
    steps: [initctl("start", "a"), { do: "log", name: "a.log", match: /hello/, raw: true }],
    deliberate: {
      reason: "job output is a pipe, not a terminal: logs hold what the job wrote, byte for byte",
      upkeep: `$ initctl start a
a stop/waiting
= log a.log
"hello\\n"`,
    },
  },
  {
    name: "deliberate: check-config knows the boot events upkeep emits itself",
    // Started as it starts by default (with its boot events); started as Upstart's init is, it
    // knows Upstart's events only (the check-config scenarios).
    bootEvents: true,
    jobs: { a: "start on runlevel [2345] and filesystem\ntask\nexec true\n" },
    steps: [initctl("check-config")],
    deliberate: {
      reason: "upkeep emits startup, the filesystem events, net-device-up, runlevel at start",
      upkeep: `$ initctl check-config`,
    },
  },
  {
    name: "deliberate: status shows the health of a job with health checks",
    jobs: { a: "health exec true\nhealth interval 1\nexec sleep 1000\n" },
    steps: [
      initctl("start", "a"),
      { do: "await", args: ["status", "a"], match: /healthy/, timeoutMs: 5000 },
      initctl("stop", "a"),
    ],
    deliberate: {
      reason: "upkeep's health checks (an extension) report on the status line",
      upkeep: `$ initctl start a
a start/running, process PID1
$ initctl status a  # awaited
a start/running, process PID1, healthy
$ initctl stop a
a stop/waiting`,
    },
  },
  {
    name: "deliberate: the daemon emits the boot events a host booted by another init has passed",
    bootEvents: true,
    jobs: {
      a: "start on runlevel [2345]\nexec sleep 1000\n",
      b: "start on filesystem and static-network-up\nexec sleep 1000\n",
      c: "start on startup\ntask\nexec true\n",
    },
    steps: [
      { do: "await", args: ["status", "a"], match: /running/, timeoutMs: 5000 },
      { do: "await", args: ["status", "b"], match: /running/, timeoutMs: 5000 },
      initctl("stop", "a"),
      initctl("stop", "b"),
    ],
    deliberate: {
      reason: "no Upstart runs on the host to emit them; stock job files start unchanged",
      upkeep: `$ initctl status a  # awaited
a start/running, process PID1
$ initctl status b  # awaited
b start/running, process PID2
$ initctl stop a
a stop/waiting
$ initctl stop b
b stop/waiting`,
    },
  },
  {
    name: "deliberate: what a main process leaves in its process group is stopped with it",
    jobs: {
      a: "exec sh -c 'sleep 1000 & echo $! > @TMP@/child; exit 0'\n",
      r: "respawn\nnormal exit 0\nexec sh -c 'sleep 1000 & echo $! > @TMP@/child-r; exit 0'\n",
    },
    steps: [
      codeOnly("start", "a"),
      waitFile("child"),
      awaitStatus(/waiting/, "a"),
      { do: "pidAlive", path: "child" },
      codeOnly("start", "r"),
      waitFile("child-r"),
      awaitStatus(/waiting/, "r"),
      { do: "pidAlive", path: "child-r" },
    ],
    deliberate: {
      reason: "a job that stopped leaves nothing running unsupervised",
      upkeep: `$ initctl start a
$ initctl status a  # awaited
a stop/waiting
# pid in child has exited
$ initctl start r
$ initctl status r  # awaited
r stop/waiting
# pid in child-r has exited`,
    },
  },
  {
    name: "deliberate: kill timeout 0 sends SIGKILL right after the kill signal",
    jobs: { a: "kill timeout 0\nexec sh -c 'trap \"\" TERM; touch @TMP@/up; exec sleep 1000'\n" },
    steps: [
      initctl("start", "a"),
      waitFile("up"),
      initctl("stop", "a"),
      initctl("status", "a"),
    ],
    deliberate: {
      reason:
        "Upstart 1.13.2 accepts kill timeout 0, then its init aborts (an assertion) when it stops the job",
      upkeep: `$ initctl start a
a start/running, process PID1
$ initctl stop a
a stop/waiting
$ initctl status a
a stop/waiting`,
    },
  },
  {
    name: "deliberate: stop of a job whose file was removed while it ran answers as any stop",
    jobs: { a: "exec sleep 1000\n" },
    steps: [
      initctl("start", "a"),
      job("a", null),
      initctl("reload-configuration"),
      initctl("status", "a"),
      initctl("stop", "a"),
      initctl("status", "a"),
    ],
    deliberate: {
      reason:
        "Upstart's initctl prints a D-Bus error (Method \"Get\" … doesn't exist) and exits 1 after stopping it",
      upkeep: `$ initctl start a
a start/running, process PID1
# removed job a
$ initctl reload-configuration
$ initctl status a
a start/running, process PID1
$ initctl stop a
a stop/waiting
$ initctl status a
! initctl: Unknown job: a
[exit 1]`,
    },
  },
  {
    name: "deliberate: unset-env removes the variable it names, and only that one",
    jobs: {},
    steps: [
      initctl("set-env", "A=1"),
      initctl("set-env", "AB=2"),
      initctl("unset-env", "AB"),
      initctl("get-env", "A"),
      initctl("get-env", "AB"),
    ],
    deliberate: {
      reason: "Upstart removes every variable whose name is a prefix of the one named (A for AB) " +
        "and skips the entry after each one it removes",
      upkeep: `$ initctl set-env A=1
$ initctl set-env AB=2
$ initctl unset-env AB
$ initctl get-env A
1
$ initctl get-env AB
! initctl: No such variable: AB
[exit 1]`,
    },
  },
  {
    name: "deliberate: help in upkeep's words; D-Bus options accepted and ignored; no sessions",
    jobs: { a: "exec sleep 1000\n" },
    steps: [
      initctl("--help"),
      initctl("help"),
      initctl("start", "--help"),
      as("status", "--help"),
      initctl("--system", "status", "a"),
      initctl("--session", "status", "a"),
      initctl("--dest=com.ubuntu.Upstart", "list"),
      initctl("list-sessions"),
    ],
    deliberate: {
      reason: "upkeep documents its own commands and options; it has no D-Bus to choose, and no " +
        "user sessions to list",
      upkeep: `$ initctl --help
${HELP}
$ initctl help
${HELP}
$ initctl start --help
${commandHelp("start", "initctl")}
$ status --help
${commandHelp("status", "status")}
$ initctl --system status a
a stop/waiting
$ initctl --session status a
a stop/waiting
$ initctl --dest=com.ubuntu.Upstart list
a stop/waiting
$ initctl list-sessions`,
    },
  },
  {
    name: "deliberate: a main process that never forks or stops as expect says fails after 10 s",
    jobs: {
      f: "expect fork\nexec sleep 1000\n",
      s: "expect stop\nexec sleep 1000\n",
      recf: recorder("stopped f", "evf"),
      recs: recorder("stopped s", "evs"),
    },
    steps: [
      codeOnly("start", "-n", "f"),
      codeOnly("start", "-n", "s"),
      { do: "await", args: ["status", "f"], match: /stop\/waiting/, timeoutMs: 15_000 },
      { do: "await", args: ["status", "s"], match: /stop\/waiting/, timeoutMs: 15_000 },
      file("evf"),
      file("evs"),
    ],
    deliberate: {
      reason:
        "Upstart waits for ever in spawned; a daemon that does not fork as declared must not " +
        "leave the job stuck",
      upkeep: `$ initctl start -n f
$ initctl start -n s
$ initctl status f  # awaited
f stop/waiting
$ initctl status s  # awaited
s stop/waiting
= evf
stopped JOB=f INSTANCE= RESULT=failed PROCESS=main EXIT_STATUS=unset EXIT_SIGNAL=unset
= evs
stopped JOB=s INSTANCE= RESULT=failed PROCESS=main EXIT_STATUS=unset EXIT_SIGNAL=unset`,
    },
  },
  {
    name: "deliberate: a respawning main that cannot be spawned, or ends before it forks, respawns",
    jobs: {
      a: "respawn\nexec /nonexistent/bin\n",
      f: "respawn\nexpect fork\nexec sh -c 'exit 3'\n",
      reca: recorder("stopped a", "eva"),
      recf: recorder("stopped f", "evf"),
    },
    steps: [
      initctl("start", "a"),
      file("eva"),
      initctl("start", "f"),
      // Upstart never gets there (f stays start/running without a process): a shorter wait.
      { do: "file", path: "evf", timeoutMs: 10_000 },
      initctl("list"),
    ],
    deliberate: {
      reason: "Upstart fails a spawn at once (PROCESS=main) and takes a main process that ends " +
        "before its fork for a running job without a process; upkeep retries as for a crash",
      upkeep: `$ initctl start a
! initctl: Job failed to start
[exit 1]
= eva
stopped JOB=a INSTANCE= RESULT=failed PROCESS=respawn EXIT_STATUS=unset EXIT_SIGNAL=unset
$ initctl start f
! initctl: Job failed to start
[exit 1]
= evf
stopped JOB=f INSTANCE= RESULT=failed PROCESS=respawn EXIT_STATUS=unset EXIT_SIGNAL=unset
$ initctl list
a stop/waiting
f stop/waiting
reca stop/waiting
recf stop/waiting`,
    },
  },
  {
    name: "deliberate: a followed daemon that is not our child is seen to end",
    // $(...) forks: expect fork takes that subshell for the daemon, and it ends at once. Its parent
    // is the script, not init: Upstart never hears of its end (status running, stop hangs).
    jobs: { a: "expect fork\nscript\n  x=$(true)\n  exec sleep 1000\nend script\n" },
    steps: [
      codeOnly("start", "a"),
      { do: "await", args: ["status", "a"], match: /stop\/waiting/, timeoutMs: 5000 },
    ],
    deliberate: {
      reason: "a job whose daemon is gone must not show running (and stop must not hang)",
      upkeep: `$ initctl start a
$ initctl status a  # awaited
a stop/waiting`,
    },
  },
  {
    name: "deliberate: kill signal 0 sends nothing, then SIGKILL after the kill timeout",
    jobs: { a: "kill signal 0\nkill timeout 1\nexec sleep 1000\n" },
    steps: [initctl("start", "a"), initctl("stop", "a"), initctl("status", "a")],
    deliberate: {
      reason:
        "Upstart 1.13.2 accepts kill signal 0, then its init aborts (an assertion) when it stops the job",
      upkeep: `$ initctl start a
a start/running, process PID1
$ initctl stop a
a stop/waiting
$ initctl status a
a stop/waiting`,
    },
  },
  {
    name: "deliberate: setuid gives the user's own groups, not root's; numeric ids are ids",
    jobs: {
      u: `setuid nobody
task
script
  grep -qE "^Groups:.*[[:space:]]0([[:space:]]|$)" /proc/self/status && g=yes || g=no
  echo "root group: $g" > @TMP@/u
end script
`,
      n: "setuid 65534\nsetgid 65534\ntask\nexec sh -c 'echo $(id -u):$(id -g) > @TMP@/n'\n",
    },
    // n has written its line when start returns; Upstart never runs it (a short wait).
    steps: [
      initctl("start", "u"),
      file("u"),
      initctl("start", "n"),
      { do: "file", path: "n", timeoutMs: 3000 },
    ],
    deliberate: {
      reason:
        "Upstart's initgroups(user, 0) leaves the root group to a job that drops its privileges; ids as chown takes them",
      upkeep: `$ initctl start u
u stop/waiting
= u
root group: no
$ initctl start n
n stop/waiting
= n
65534:65534`,
    },
  },
  ...(lowerOomRefused() ? [oomRefused()] : []),
];

/**
 * Where lowering oom_score_adj is refused even to root (containers without CAP_SYS_RESOURCE), a
 * job with a negative `oom score` runs with the score it has; Upstart fails its spawn. Elsewhere
 * both lower it, so the scenario is only registered where the difference shows.
 */
function oomRefused(): Scenario {
  return {
    name: "deliberate: an oom score the system refuses to set does not stop the job",
    jobs: {
      a: "oom score -500\ntask\nexec sh -c 'cat /proc/self/oom_score_adj > @TMP@/oom'\n",
    },
    // The task has written it when start returns; Upstart never runs it (a short wait).
    steps: [initctl("start", "a"), { do: "file", path: "oom", timeoutMs: 3000 }],
    deliberate: {
      reason: "a container that refuses to lower oom scores must still run the stock job files",
      upkeep: `$ initctl start a
a stop/waiting
= oom
0`,
    },
  };
}

function lowerOomRefused(): boolean {
  const r = new Deno.Command("/bin/sh", {
    args: ["-c", "echo -1 > /proc/self/oom_score_adj && cat /proc/self/oom_score_adj"],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  return new TextDecoder().decode(r.stdout).trim() !== "-1";
}
