/** Odd corners: unknown parameters, sub-directory jobs, overrides, respawn with failing hooks. */

import {
  awaitStatus,
  bg,
  file,
  initctl,
  job,
  join,
  quiet,
  recorder,
  type Scenario,
  waitFile,
} from "../scenario.ts";

export const MISC: Scenario[] = [
  {
    name: "unknown parameter: which commands add the usage text",
    jobs: {
      pool: 'instance $N\nusage "pool N=<n>"\nexec sleep 1000\n',
      def: "instance ${N:-none}\nexec sleep 1000\n",
    },
    steps: [
      initctl("start", "pool"),
      initctl("stop", "pool"),
      initctl("restart", "pool"),
      initctl("reload", "pool"),
      initctl("status", "pool"),
      initctl("status", "pool", "M=1"),
      initctl("usage", "pool"),
      initctl("start", "def"),
      initctl("start", "def", "N=x"),
      initctl("list"),
      initctl("stop", "def"),
      initctl("stop", "def", "N=x"),
    ],
  },
  {
    name: "jobs in sub-directories are named by their path",
    jobs: {
      "net/web": "exec sleep 1000\n",
      "net/deep/db": "instance $N\nstart on started net/web\nexec sleep 1000\n",
      "plain.conf.bak": "exec sleep 1000\n",
    },
    steps: [
      initctl("list"),
      initctl("start", "net/web"),
      initctl("list"),
      initctl("start", "net/deep/db", "N=1"),
      initctl("status", "net/deep/db", "N=1"),
      initctl("stop", "net/web"),
      initctl("show-config", "net/deep/db"),
      initctl("status", "plain"),
    ],
  },
  {
    name: "override files: removed, refused, and alone",
    jobs: {
      a: "start on foo\nexec sleep 1000\n",
      "a.override": "start on bar\n",
      b: "start on foo\nexec sleep 1000\n",
      "b.override": "start on (bar\n",
    },
    steps: [
      initctl("show-config", "a"),
      initctl("show-config", "b"),
      { do: "job", name: "a", ext: "override", text: null },
      initctl("reload-configuration"),
      initctl("show-config", "a"),
      job("a.override", "usage fromoverride\n"),
      initctl("reload-configuration"),
      initctl("usage", "a"),
      initctl("show-config", "a"),
    ],
  },
  {
    name: "respawn runs pre-start and post-stop again; a failing pre-start ends it",
    jobs: {
      r: `respawn
pre-start script
  echo pre-start >> @TMP@/out
  [ ! -e @TMP@/fail ] || exit 3
end script
script
  touch @TMP@/main-up
  exec sleep 1000
end script
post-stop exec sh -c 'echo post-stop >> @TMP@/out'
`,
      rec: recorder("stopped r or stopping r", "ev"),
    },
    steps: [
      initctl("start", "r"),
      { do: "touch", path: "fail" },
      { do: "kill", args: ["r"], signal: "KILL" },
      awaitStatus(/waiting/, "r"),
      file("ev", /stopped/),
      file("out", /post-stop\n.*\n.*post-stop\n/),
    ],
  },
  {
    name: "a task already running cannot be started again",
    jobs: {
      t: `task
script
  touch @TMP@/t.started
  while [ ! -e @TMP@/go ]; do sleep 0.05; done
end script
`,
    },
    steps: [
      quiet("start", "-n", "t"),
      waitFile("t.started"),
      initctl("start", "t"),
      initctl("status", "t"),
      bg("restart", "restart", "t"),
      { do: "await", args: ["status", "t"], match: /start\/running/, fresh: true },
      { do: "touch", path: "go" },
      join("restart"),
      awaitStatus(/waiting/, "t"),
    ],
  },
  {
    name: "emit: event names and arguments initctl passes through",
    jobs: { rec: recorder("*", "ev"), dash: recorder("-x", "evd") },
    steps: [
      initctl("emit", "--", "-x"),
      file("evd"),
      initctl("emit", "a/b"),
      initctl("emit", "with space"),
      initctl("status", "rec"),
    ],
  },
  {
    name: "log-priority accepts Upstart's levels",
    jobs: {},
    steps: [
      initctl("log-priority", "debug"),
      initctl("log-priority"),
      initctl("log-priority", "warn"),
      initctl("log-priority"),
      initctl("log-priority", "fatal"),
      initctl("log-priority"),
      initctl("log-priority", "DEBUG"),
      initctl("log-priority", "message", "extra"),
      initctl("log-priority"),
    ],
  },
];
