/** initctl's words, streams and exit codes: options, errors, shortcuts, env commands. */

import {
  as,
  awaitStatus,
  file,
  initctl,
  quiet,
  recorder,
  type Scenario,
  waitFile,
} from "../scenario.ts";

export const INITCTL: Scenario[] = [
  {
    name: "initctl errors and odd arguments",
    jobs: { a: "exec sleep 1000\n", d: "start on foo\nexec sleep 1000\n" },
    steps: [
      initctl("show-config", "a", "d"),
      initctl("check-config"),
      initctl("check-config", "nosuch"),
      initctl("--no-wait", "start", "a"),
      initctl("status"),
      initctl("set-env"),
      initctl("emit", "foo", "=1"),
      initctl("status", "a", "K=unknown"),
      initctl("set-env", "EMPTY="),
      initctl("get-env", "EMPTY"),
      initctl("unset-env", "NOPE"),
      initctl("get-env", "NOPE"),
      initctl("status", "nosuch"),
      initctl("log-priority"),
      initctl("log-priority", "bogus"),
      initctl("usage", "a"),
      initctl("bogus"),
      initctl(),
    ],
  },
  {
    name: "initctl option parsing",
    jobs: { a: "exec sleep 1000\n" },
    steps: [
      initctl("-x", "list"),
      initctl("--bogus", "list"),
      initctl("start", "--no-wait=1", "a"),
      initctl("start", "-z", "a"),
      initctl("list", "-n"),
      initctl("status", "a", "-n"),
      initctl("start", "--", "a"),
      initctl("-q", "status", "a"),
      initctl("status", "-q", "a"),
      initctl("-q", "status", "nosuch"),
      initctl("-v", "status", "a"),
      initctl("stop", "-nq", "a"),
      initctl("stop", "a", "--quiet"),
      initctl("stop", "a"),
      initctl("emit", "-n"),
      initctl("check-config", "-i"),
      initctl("show-config", "-e", "-x"),
      initctl("list", "extra", "args"),
      initctl("usage", "a", "extra"),
      initctl("-q", "list"),
      initctl("version", "-q"),
      initctl("-q", "show-config", "a"),
      initctl("-q", "usage", "a"),
      initctl("-q", "log-priority"),
      initctl("-q", "start", "nosuch"),
      initctl("--", "list"),
      initctl("-", "list"),
    ],
  },
  {
    name: "start, stop, restart, reload and status errors",
    jobs: { a: "exec sleep 1000\n", t: "task\nexec true\n" },
    steps: [
      initctl("start", "nosuch"),
      initctl("stop", "nosuch"),
      initctl("restart", "nosuch"),
      initctl("reload", "nosuch"),
      initctl("status", "nosuch"),
      initctl("stop", "a"),
      initctl("restart", "a"),
      initctl("reload", "a"),
      initctl("start", "a", "FOO"),
      initctl("stop", "a", "FOO"),
      initctl("status", "a", "FOO"),
      initctl("start"),
      initctl("stop"),
      initctl("restart"),
      initctl("reload"),
      initctl("usage"),
      initctl("usage", "nosuch"),
      initctl("start", ""),
      initctl("status", ""),
      initctl("usage", ""),
      initctl("emit", ""),
      initctl("set-env", ""),
      initctl("get-env", ""),
      initctl("unset-env", ""),
      initctl("show-config", ""),
      initctl("check-config", ""),
      initctl("start", "a"),
      initctl("start", "a"),
      initctl("stop", "a", "X=1"),
      initctl("start", "t"),
      initctl("status", "t"),
    ],
  },
  {
    name: "start, stop, status and restart by program name",
    jobs: {
      a: "exec sleep 1000\n",
      // Only to know when a has stopped by itself (nothing reads its file into the transcript).
      rec: recorder("stopped a", "stopped"),
    },
    steps: [
      as("status", "a"),
      as("start", "a"),
      as("start", "a"),
      as("status", "a"),
      as("restart", "a"),
      as("reload", "a"),
      // SIGHUP ends sleep: a fails and stops by itself. Wait for its stopped, or the stop below
      // may come while a is still stopping (and answer otherwise than "Unknown instance").
      waitFile("stopped", /\n/),
      as("stop", "a"),
      as("stop", "a"),
      as("status", "nosuch"),
      as("start"),
      as("stop", "-x", "a"),
      { do: "initctl", as: "start", args: ["-n", "--", "a"], output: "code" },
      awaitStatus(/running/, "a"),
      as("stop", "a"),
    ],
  },
  {
    name: "usage and log-priority",
    jobs: {
      a: 'usage "a MODE=<fast|slow>"\nexec sleep 1000\n',
      b: "exec sleep 1000\n",
    },
    steps: [
      initctl("usage", "a"),
      initctl("usage", "b"),
      initctl("log-priority"),
      initctl("log-priority", "info"),
      initctl("log-priority"),
      initctl("log-priority", "error"),
      initctl("log-priority"),
      initctl("log-priority", "message"),
    ],
  },
  {
    name: "job environment commands",
    jobs: { a: "exec sh -c 'echo \"FOO=$FOO BAR=$BAR\" >> @TMP@/out; exec sleep 1000'\n" },
    steps: [
      initctl("set-env", "FOO=one"),
      initctl("get-env", "FOO"),
      initctl("set-env", "-r", "FOO=two"),
      initctl("get-env", "FOO"),
      initctl("set-env", "FOO=two"),
      initctl("set-env", "BAR"),
      initctl("get-env", "BAR"),
      initctl("get-env", "-g", "FOO"),
      initctl("start", "a"),
      file("out"),
      initctl("unset-env", "FOO"),
      initctl("get-env", "FOO"),
      initctl("unset-env", "FOO"),
      initctl("get-env"),
      initctl("unset-env"),
      initctl("set-env", "X=1", "Y=2"),
      initctl("get-env", "Y"),
      initctl("reset-env"),
      initctl("get-env", "X"),
      initctl("get-env", "BAR"),
      initctl("list-env", "-x"),
      initctl("stop", "a"),
    ],
  },
  {
    name: "env commands inside a job act on the job's own environment",
    jobs: {
      a: `env MINE=class
pre-start script
  @BIN@/initctl set-env FROMPRE=1
  @BIN@/initctl get-env MINE > @TMP@/get
  @BIN@/initctl set-env -g GLOBAL=1
  @BIN@/initctl unset-env MINE
end script
script
  echo "main FROMPRE=$FROMPRE MINE=\${MINE-unset} GLOBAL=\${GLOBAL-unset}" >> @TMP@/out
  exec sleep 1000
end script
`,
    },
    steps: [
      initctl("start", "a"),
      file("get"),
      file("out"),
      initctl("get-env", "GLOBAL"),
      initctl("get-env", "FROMPRE"),
      initctl("stop", "a"),
    ],
  },
  {
    name: "initctl inside a job without a job name acts on that instance",
    jobs: {
      a: `instance $N
script
  @BIN@/initctl status > @TMP@/status-$N 2>&1
  @BIN@/status >> @TMP@/status-$N 2>&1
  exec sleep 1000
end script
`,
      b: `script
  @BIN@/stop
  exec sleep 1000
end script
`,
    },
    steps: [
      initctl("start", "a", "N=1"),
      file("status-1", /\n.*\n/),
      initctl("stop", "a", "N=1"),
      quiet("start", "b"),
      awaitStatus(/waiting/, "b"),
    ],
  },
];
