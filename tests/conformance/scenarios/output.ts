/** What jobs print (console log), how exec lines are run, and the states of a slow stop. */

import {
  awaitStatus,
  bg,
  gate,
  initctl,
  join,
  quiet,
  recorder,
  type Scenario,
  touch,
  waitFile,
} from "../scenario.ts";

const log = (name: string, match: RegExp) => ({ do: "log" as const, name, match });

export const OUTPUT: Scenario[] = [
  {
    name: "exec lines: split on whitespace, or run by sh when they hold shell characters",
    jobs: {
      plain: "task\nexec /bin/echo a   b\n",
      quoted: "task\nexec /bin/echo \"a   b\" 'c'\n",
      dollar: "task\nenv X=42\nexec /bin/echo x=$X\n",
      comment: "task\nexec /bin/echo before # after\n",
      redirect: "task\nexec /bin/echo to-stderr 1>&2\n",
      script: "task\nscript\n  echo one\n  false\n  echo never\nend script\n",
    },
    steps: [
      initctl("start", "plain"),
      log("plain.log", /a/),
      initctl("start", "quoted"),
      log("quoted.log", /a/),
      initctl("start", "dollar"),
      log("dollar.log", /x=/),
      initctl("start", "comment"),
      log("comment.log", /before/),
      initctl("start", "redirect"),
      log("redirect.log", /stderr/),
      initctl("start", "script"),
      log("script.log", /one/),
    ],
  },
  {
    name: "every process of a job writes to the job's log; instances have their own",
    jobs: {
      // main and post-start run side by side: main waits until post-start has written its line,
      // so the log's order is the same on every run.
      a: `pre-start exec echo pre-start
post-start exec sh -c 'echo post-start; touch @TMP@/posted'
script
  ${gate("posted")}
  echo main
end script
post-stop exec echo post-stop
task
`,
      "net/w": "instance $N\ntask\nexec echo instance $N\n",
    },
    steps: [
      initctl("start", "a"),
      log("a.log", /post-stop/),
      initctl("start", "net/w", "N=x/y"),
      log("net_w-x_y.log", /instance/),
    ],
  },
  {
    name: "a slow stop shows stop/killed until the kill timeout ends it",
    jobs: {
      a: `kill timeout 3
script
  trap '' TERM
  touch @TMP@/ready
  while :; do sleep 0.1; done
end script
`,
      rec: recorder("stopped a", "ev"),
    },
    steps: [
      initctl("start", "a"),
      waitFile("ready"),
      bg("stop", "stop", "a"),
      awaitStatus(/stop\/killed/, "a"),
      join("stop"),
      { do: "file", path: "ev" },
    ],
  },
  {
    name: "stop on during a blocked starting: the job stops once starting is done",
    jobs: {
      a: "start on go\nstop on halt\nexec sleep 1000\n",
      h: `start on starting a
task
script
  touch @TMP@/h.started
  ${gate("go")}
end script
`,
      rec: recorder("stopped a", "ev"),
    },
    steps: [
      quiet("emit", "-n", "go"),
      waitFile("h.started"),
      initctl("status", "a"),
      bg("halt", "emit", "halt"),
      awaitStatus(/stop\/starting/, "a"),
      touch("go"),
      join("halt"),
      awaitStatus(/waiting/, "a"),
      { do: "file", path: "ev" },
    ],
  },
  {
    name: "jobs started by stopped RESULT=failed, and by an event that also stops another",
    jobs: {
      bad: "exec sh -c 'exit 9'\n",
      onfail: recorder("stopped bad RESULT=failed", "fail"),
      b: "start on swap\nexec sleep 1000\n",
      c: "start on go\nstop on swap\nexec sleep 1000\n",
    },
    steps: [
      quiet("start", "bad"),
      { do: "file", path: "fail" },
      initctl("emit", "go"),
      initctl("list"),
      initctl("emit", "swap"),
      initctl("list"),
      initctl("stop", "b"),
    ],
  },
  {
    name: "status with stray words and instances addressed by other variables",
    jobs: { a: "exec sleep 1000\n", w: "instance $N\nexec sleep 1000\n" },
    steps: [
      initctl("start", "a"),
      initctl("status", "a", "b"),
      initctl("status", "a", "X=1"),
      initctl("stop", "a", "b"),
      initctl("start", "w", "N=1"),
      initctl("status", "w", "N=1", "OTHER=2"),
      initctl("stop", "w", "OTHER=2", "N=1"),
      initctl("stop", "a"),
    ],
  },
];
