/** The job lifecycle: goals and states at every step, hooks, stop requests, respawn. */

import {
  awaitFresh,
  awaitStatus,
  bg,
  file,
  gate,
  initctl,
  join,
  kill,
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
    name: "respawn: a killed main process comes back with a new pid",
    jobs: { r: "respawn\nexec sleep 1000\n" },
    steps: [
      initctl("start", "r"),
      kill("KILL", "r"),
      awaitFresh(/start\/running/, "r"),
      initctl("stop", "r"),
    ],
  },
];
