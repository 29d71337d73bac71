/**
 * Deliberate differences from Upstart: each scenario states upkeep's transcript (Upstart's must
 * differ). Every one is listed with its reason in docs/upstart-differences.md.
 */

import { VERSION } from "../../../lib/version.ts";
import { initctl, job, type Scenario } from "../scenario.ts";

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
    jobs: { a: "start on runlevel [2345] and filesystem\nexec true\n" },
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
];
