/** The job lifecycle: goals and states at every step, hooks, stop requests, respawn. */

import {
  awaitStatus,
  bg,
  file,
  gate,
  initctl,
  join,
  quiet,
  type Scenario,
  touch,
  waitFile,
} from "../scenario.ts";

export const LIFECYCLE: Scenario[] = [
  {
    name: "a pre-start that calls stop runs to its end (Ubuntu's ssh job)",
    jobs: {
      ssh: `pre-start script
  test -x /nonexistent/sshd || { @BIN@/stop; touch @TMP@/stopped; ${
        gate("go")
      }; echo last line >> @TMP@/pre.out; exit 0; }
end script
exec sleep 1000
`,
    },
    steps: [
      bg("start", "start", "ssh"),
      waitFile("stopped"),
      join("start"),
      initctl("status", "ssh"),
      touch("go"),
      awaitStatus(/waiting/, "ssh"),
      file("pre.out"),
      initctl("list"),
    ],
  },
  {
    name: "stop during pre-start lets the pre-start finish",
    jobs: {
      a: `pre-start script
  touch @TMP@/pre.started
  ${gate("go")}
  echo pre done >> @TMP@/out
end script
exec sleep 1000
post-stop exec echo post-stop >> @TMP@/out
`,
    },
    steps: [
      quiet("start", "-n", "a"),
      waitFile("pre.started"),
      initctl("status", "a"),
      initctl("stop", "-n", "a"),
      initctl("status", "a"),
      initctl("stop", "a"),
      touch("go"),
      file("out", /post-stop/),
      initctl("status", "a"),
    ],
  },
  {
    name: "stop on firing during pre-start lets the pre-start finish",
    jobs: {
      j: `start on go-on
stop on go-off
pre-start script
  touch @TMP@/pre.started
  ${gate("go")}
  echo pre done >> @TMP@/out
end script
exec sleep 1000
`,
    },
    steps: [
      quiet("emit", "-n", "go-on"),
      waitFile("pre.started"),
      initctl("status", "j"),
      bg("off", "emit", "go-off"),
      awaitStatus(/stop\/pre-start/, "j"),
      touch("go"),
      join("off"),
      awaitStatus(/waiting/, "j"),
      file("out"),
    ],
  },
  {
    name: "stop during post-start lets the post-start finish",
    jobs: {
      a: `exec sleep 1000
post-start script
  touch @TMP@/post.started
  ${gate("go")}
  echo post-start done >> @TMP@/out
end script
`,
    },
    steps: [
      quiet("start", "-n", "a"),
      waitFile("post.started"),
      initctl("status", "a"),
      initctl("stop", "-n", "a"),
      initctl("status", "a"),
      touch("go"),
      awaitStatus(/waiting/, "a"),
      file("out"),
    ],
  },
  {
    name: "a service start and stop show the status at each step",
    jobs: { a: "exec sleep 1000\n" },
    steps: [
      initctl("status", "a"),
      initctl("start", "a"),
      initctl("status", "a"),
      initctl("list"),
      initctl("start", "a"),
      initctl("stop", "a"),
      initctl("status", "a"),
      initctl("stop", "a"),
      initctl("list"),
    ],
  },
  {
    name: "a task runs to its end before start returns",
    jobs: { t: "task\nexec sh -c 'echo ran >> @TMP@/out'\n" },
    steps: [
      initctl("start", "t"),
      file("out"),
      initctl("status", "t"),
      initctl("start", "t"),
      file("out"),
    ],
  },
  {
    name: "instances: names, duplicates, unknown instances and parameters",
    jobs: {
      w: 'instance $N\nusage "w N=<n>"\nexec sleep 1000\n',
      s: "instance fixed\nexec sleep 1000\n",
      x: "instance ${N}-x\nexec sleep 1000\n",
    },
    steps: [
      initctl("start", "w", "N=1"),
      initctl("start", "w", "N=2"),
      initctl("start", "w", "N=1"),
      initctl("start", "w", "N=1", "OTHER=2"),
      initctl("status", "w", "N=1"),
      initctl("status", "w", "N=3"),
      initctl("status", "w"),
      initctl("start", "w"),
      initctl("stop", "w"),
      initctl("list"),
      initctl("stop", "w", "N=1"),
      initctl("stop", "w", "N=1"),
      initctl("restart", "w", "N=2"),
      initctl("reload", "w", "N=9"),
      initctl("status", "s"),
      initctl("start", "s"),
      initctl("status", "s"),
      initctl("start", "x", "N=a"),
      initctl("list"),
      initctl("stop", "s"),
      initctl("stop", "x", "N=a"),
      initctl("stop", "w", "N=2"),
      initctl("list"),
    ],
  },
  {
    name: "a task instance started twice, and a task started by an event",
    jobs: {
      t: "instance $N\ntask\nexec sh -c 'echo $N >> @TMP@/out'\n",
      e: "start on go\ntask\nexec sh -c 'echo $X >> @TMP@/oute'\n",
    },
    steps: [
      initctl("start", "t", "N=1"),
      initctl("start", "t", "N=1"),
      file("out"),
      initctl("emit", "go", "X=1"),
      initctl("emit", "go", "X=2"),
      file("oute"),
      initctl("list"),
    ],
  },
  {
    name: "a job without a main process rests in running",
    jobs: {
      a: "pre-start exec sh -c 'echo pre >> @TMP@/out'\npost-stop exec sh -c 'echo post >> @TMP@/out'\n",
      e: "",
    },
    steps: [
      initctl("start", "a"),
      initctl("status", "a"),
      initctl("start", "e"),
      initctl("list"),
      initctl("stop", "a"),
      initctl("stop", "e"),
      file("out"),
      initctl("list"),
    ],
  },
  {
    name: "start and stop with --no-wait, and options after the job name",
    jobs: { a: "exec sleep 1000\n", t: "task\nexec sh -c 'echo ran >> @TMP@/out'\n" },
    steps: [
      quiet("start", "--no-wait", "a"),
      awaitStatus(/running/, "a"),
      quiet("stop", "a", "-n"),
      awaitStatus(/waiting/, "a"),
      quiet("start", "t", "--no-wait"),
      file("out"),
      initctl("start", "a", "-q"),
      initctl("-q", "stop", "a"),
      initctl("status", "a"),
    ],
  },
];
