/**
 * Cross-checks: corners the other files did not cover, found by a differential exploration of
 * initctl arguments, event semantics, environments, overrides, respawn and job-file discovery.
 */

import {
  awaitStatus,
  bg,
  file,
  initctl,
  join,
  kill,
  quiet,
  recorder,
  type Scenario,
  touch,
  waitFile,
} from "../scenario.ts";

const svc = (on: string) => `${on}\nexec sleep 1000\n`;
const log = (name: string, match: RegExp) => ({ do: "log" as const, name, match });

export const CROSS_CHECKS: Scenario[] = [
  {
    name: "cross-check: extra arguments to commands that take none or one",
    jobs: { a: "exec sleep 1000\n" },
    steps: [
      initctl("reload-configuration", "extra"),
      initctl("reset-env", "extra"),
      initctl("set-env", "A=1"),
      initctl("get-env", "A", "B"),
      initctl("unset-env", "A", "B"),
      initctl("get-env", "A"),
      initctl("notify-disk-writeable", "extra"),
      initctl("check-config", "a", "b"),
      initctl("log-priority", "info", "x"),
      initctl("set-env", "A=1", "B"),
      initctl("emit", "ev", "A=1", "-n"),
    ],
  },
  {
    name: "cross-check: instances with odd names",
    jobs: { w: "instance $N\nexec sleep 1000\n" },
    steps: [
      initctl("start", "w", "N=a b"),
      initctl("start", "w", "N=x=y"),
      initctl("start", "w", "N=-"),
      initctl("start", "w", "N=(p)"),
      initctl("status", "w", "N=a b"),
      initctl("list"),
      initctl("stop", "w", "N=a b"),
      initctl("stop", "w", "N=x=y"),
      initctl("stop", "w", "N=-"),
      initctl("stop", "w", "N=(p)"),
      initctl("list"),
    ],
  },
  {
    name: "cross-check: restart and reload of a stopped instance, -n on restart",
    jobs: { w: "instance $N\nexec sleep 1000\n", a: "exec sleep 1000\n" },
    steps: [
      initctl("restart", "w", "N=1"),
      initctl("reload", "w", "N=1"),
      initctl("start", "a"),
      { do: "initctl", args: ["restart", "-n", "a"], output: "code" },
      awaitStatus(/start\/running/, "a"),
      quiet("stop", "-n", "a"),
      awaitStatus(/waiting/, "a"),
      initctl("restart", "-n", "a"),
    ],
  },
  {
    name: "cross-check: and keeps the first matching event's variables",
    jobs: {
      j: `start on a and b
script
  echo "X=$X Y=\${Y-unset} EV=$UPSTART_EVENTS" >> @TMP@/out
  exec sleep 1000
end script
`,
      rec: `instance $X\n${recorder("a", "seen", ["X"])}`,
    },
    steps: [
      bg("a1", "emit", "a", "X=1"),
      file("seen"),
      bg("a2", "emit", "a", "X=2"),
      file("seen", /\n.*\n/),
      initctl("emit", "b", "Y=3"),
      file("out"),
      join("a1"),
      join("a2"),
      initctl("status", "j"),
    ],
  },
  {
    name: "cross-check: event state after a start (and resets)",
    jobs: {
      j: svc("start on a and b"),
      rec: `instance $N\n${recorder("a", "seen", ["N"])}`,
      recb: recorder("b", "seenb"),
    },
    steps: [
      bg("a1", "emit", "a", "N=1"),
      waitFile("seen"),
      initctl("emit", "b"),
      join("a1"),
      initctl("status", "j"),
      initctl("stop", "j"),
      bg("b2", "emit", "b"),
      waitFile("seenb", /\n.*\n/),
      initctl("status", "j"),
      initctl("emit", "a", "N=2"),
      join("b2"),
      initctl("status", "j"),
      initctl("stop", "j"),
    ],
  },
  {
    name: "cross-check: event variables override env stanzas; start env too",
    jobs: {
      j: `start on go
env X=job
env Y=job
script
  echo "X=$X Y=$Y Z=\${Z-unset}" >> @TMP@/out
  exec sleep 1000
end script
`,
    },
    steps: [
      initctl("emit", "go", "X=ev", "Z=z"),
      file("out"),
      initctl("stop", "j"),
      initctl("start", "j", "Y=cli"),
      file("out", /\n.*\n/),
      initctl("stop", "j"),
    ],
  },
  {
    name: "cross-check: stop on $VAR from env stanza and from start env",
    jobs: {
      a: "env X=1\nstart on go\nstop on halt X=$X\nexec sleep 1000\n",
      b: "stop on halt Y=$Y\nexec sleep 1000\n",
      c: "env X=1\nstart on go X=$X\nexec sleep 1000\n",
    },
    steps: [
      initctl("emit", "go"),
      initctl("list"),
      initctl("emit", "halt", "X=2"),
      initctl("status", "a"),
      initctl("emit", "halt", "X=1"),
      initctl("status", "a"),
      initctl("start", "b", "Y=5"),
      initctl("emit", "halt", "Y=4"),
      initctl("status", "b"),
      initctl("emit", "halt", "Y=5"),
      initctl("status", "b"),
      initctl("emit", "go", "X=1"),
      initctl("status", "c"),
      initctl("emit", "go", "X=$X"),
      initctl("status", "c"),
    ],
  },
  {
    name: "cross-check: stopping and stopped variables for a failed main and for a stop",
    jobs: {
      a: "exec sh -c 'exit 3'\n",
      b: "exec sleep 1000\n",
      rec: `instance $JOB-$UPSTART_EVENTS\n${
        recorder("stopping JOB=[ab] or stopped JOB=[ab]", "ev")
      }`,
    },
    steps: [
      quiet("start", "a"),
      file("ev", /stopped/),
      initctl("start", "b"),
      initctl("stop", "b"),
      file("ev", /stopped[^]*stopped/),
    ],
  },
  {
    name: "cross-check: respawn limit 0 and respawn limit N 0",
    jobs: {
      r: `respawn
respawn limit 0 5
script
  echo run >> @TMP@/runs
  [ "$(wc -l < @TMP@/runs)" -ge 12 ] && { echo reached >> @TMP@/out; exec sleep 1000; }
  exit 1
end script
`,
      s: `respawn
respawn limit 2 0
script
  echo run >> @TMP@/runs2
  [ "$(wc -l < @TMP@/runs2)" -ge 12 ] && { echo reached >> @TMP@/out2; exec sleep 1000; }
  exit 1
end script
`,
      rec: recorder("stopped r", "out"),
      rec2: recorder("stopped s", "out2"),
    },
    steps: [
      quiet("start", "-n", "r"),
      file("out", /reached|stopped/),
      file("runs"),
      quiet("start", "-n", "s"),
      file("out2", /reached|stopped/),
      file("runs2"),
      quiet("stop", "r"),
      quiet("stop", "s"),
    ],
  },
  {
    name: "cross-check: normal exit without respawn; signals by name",
    jobs: {
      a: "normal exit 3\nexec sh -c 'exit 3'\n",
      b: "normal exit 0 HUP\nexec sleep 1000\n",
      c: "exec sleep 1000\n",
      d: "respawn\nnormal exit SIGHUP\nexec sleep 1000\n",
      rec: `instance $JOB\n${recorder("stopped JOB=[abcd]", "ev")}`,
    },
    steps: [
      quiet("start", "a"),
      file("ev"),
      initctl("start", "b"),
      kill("HUP", "b"),
      file("ev", /\n.*\n/),
      initctl("start", "c"),
      kill("TERM", "c"),
      file("ev", /\n.*\n.*\n/),
      initctl("start", "d"),
      kill("HUP", "d"),
      file("ev", /\n.*\n.*\n.*\n/),
      initctl("status", "d"),
    ],
  },
  {
    name: "cross-check: post-stop after a respawn give-up",
    jobs: {
      r: `respawn
respawn limit 2 60
pre-start exec sh -c 'echo pre-start >> @TMP@/out'
exec sh -c 'exit 7'
post-stop exec sh -c 'echo "post-stop RESULT=\${RESULT-unset}" >> @TMP@/out'
`,
      rec: recorder("stopped r", "ev"),
    },
    steps: [
      quiet("start", "-n", "r"),
      file("ev"),
      awaitStatus(/waiting/, "r"),
      file("out"),
    ],
  },
  {
    name: "cross-check: a task with stop on, stopped while it runs",
    jobs: {
      t: `start on go
stop on halt
task
script
  touch @TMP@/t.up
  exec sleep 1000
end script
`,
      rec: recorder("stopped t", "ev"),
    },
    steps: [
      bg("go", "emit", "go"),
      waitFile("t.up"),
      initctl("status", "t"),
      initctl("emit", "halt"),
      join("go"),
      file("ev"),
      initctl("status", "t"),
    ],
  },
  {
    name: "cross-check: export of start-env variables and of undefined ones",
    jobs: {
      a: "export X\nexport NOPE\nexec sleep 1000\n",
      rec: recorder("started a", "ev", ["X", "NOPE"]),
    },
    steps: [
      initctl("start", "a", "X=5"),
      file("ev"),
      initctl("stop", "a"),
    ],
  },
  {
    name: "cross-check: reserved variables given to start and emit",
    jobs: {
      a: `task
script
  echo "JOB=$UPSTART_JOB INST=$UPSTART_INSTANCE EV=\${UPSTART_EVENTS-unset}" >> @TMP@/out
end script
`,
      b: `start on go
task
script
  echo "JOB=$UPSTART_JOB EV=$UPSTART_EVENTS" >> @TMP@/outb
end script
`,
    },
    steps: [
      initctl("start", "a", "UPSTART_JOB=x", "UPSTART_INSTANCE=y", "UPSTART_EVENTS=z"),
      file("out"),
      initctl("emit", "go", "UPSTART_EVENTS=x", "UPSTART_JOB=y"),
      file("outb"),
    ],
  },
  {
    name: "cross-check: env stanza values: quotes, dollars, duplicates",
    jobs: {
      a: `env A='single quoted'
env B=x"y"z
env C=$HOME-lit
env D=\${A}x
env E=1
env E=2
env F="a \\"q\\" b"
task
script
  echo "A=$A|B=$B|C=$C|D=$D|E=$E|F=$F" >> @TMP@/out
end script
`,
    },
    steps: [initctl("start", "a"), file("out")],
  },
  {
    name: "cross-check: override env adds to and replaces the job's env",
    jobs: {
      a: `env X=1
env Y=1
task
script
  echo "X=$X Y=$Y Z=\${Z-unset}" >> @TMP@/out
end script
`,
      "a.override": "env X=2\nenv Z=3\n",
    },
    steps: [initctl("start", "a"), file("out")],
  },
  {
    name: "cross-check: duplicate stanzas: the last one counts",
    jobs: {
      a: `description one
description two
usage one
usage two
kill timeout 1
kill timeout 7
instance $A
instance $B
exec sleep 1000
`,
      b: "exec echo first\nexec echo second\ntask\n",
    },
    steps: [
      initctl("usage", "a"),
      initctl("start", "a", "A=1", "B=2"),
      initctl("list"),
      initctl("stop", "a", "B=2"),
      initctl("start", "b"),
      log("b.log", /\w/),
    ],
  },
  {
    name: "cross-check: emit with odd values reaches the job",
    jobs: {
      a: `start on go
task
script
  echo "A=[$A] B=[$B] C=[$C] D=[$D]" >> @TMP@/out
end script
`,
    },
    steps: [
      initctl("emit", "go", "A=x y", "B=1=2", "C=", "D=tab\there"),
      file("out"),
    ],
  },
  {
    name: "cross-check: start on started of an instance job, stop on stopping",
    jobs: {
      w: "instance $N\nexec sleep 1000\n",
      b: svc("start on started w N=2\nstop on stopping w"),
      c: `instance $INSTANCE\nstart on started w\nstop on stopped w INSTANCE=$INSTANCE\nexec sleep 1000\n`,
    },
    // c's instances start on w's `started` event, which `start w` does not wait for: each list
    // waits until the one it shows is running (Upstart was once caught at `start/spawned`).
    steps: [
      initctl("start", "w", "N=1"),
      awaitStatus(/start\/running/, "c", "INSTANCE=1"),
      initctl("list"),
      initctl("start", "w", "N=2"),
      awaitStatus(/start\/running/, "c", "INSTANCE=2"),
      initctl("list"),
      initctl("stop", "w", "N=1"),
      initctl("list"),
      initctl("stop", "w", "N=2"),
      initctl("list"),
    ],
  },
  {
    name: "cross-check: job names: case, dots, trailing slash",
    jobs: { a: "exec sleep 1000\n", "sub/b": "exec sleep 1000\n" },
    steps: [
      initctl("status", "A"),
      initctl("status", "./a"),
      initctl("status", "sub/b/"),
      initctl("status", "sub//b"),
      initctl("status", "/sub/b"),
      initctl("start", "a.conf"),
      initctl("status", "sub"),
    ],
  },
  {
    name: "cross-check: status while starting is blocked",
    jobs: {
      a: "exec sleep 1000\n",
      h: `start on starting a
task
script
  touch @TMP@/h.up
  while [ ! -e @TMP@/go ]; do sleep 0.05; done
end script
`,
    },
    steps: [
      bg("start", "start", "a"),
      waitFile("h.up"),
      initctl("status", "a"),
      initctl("list"),
      initctl("start", "a"),
      touch("go"),
      join("start"),
      initctl("stop", "a"),
    ],
  },
  {
    name: "cross-check: emit, start and set-env with odd variable names",
    jobs: {
      a: "task\nexec true\n",
      rec: recorder("foo", "ev", ["A"]),
    },
    steps: [
      initctl("emit", "foo", "A-B=1"),
      initctl("emit", "foo", "1A=1"),
      initctl("emit", "foo", "_A=1"),
      initctl("emit", "foo", "A B=1"),
      initctl("emit", "foo", "a=1"),
      initctl("start", "a", "A-B=1"),
      initctl("start", "a", "=x"),
      initctl("set-env", "A-B=1"),
      initctl("set-env", "1A=1"),
      initctl("set-env", "A B=1"),
      initctl("set-env", "=x"),
      initctl("get-env", "A-B"),
      initctl("get-env", "A=B"),
      initctl("unset-env", "A=B"),
      initctl("emit", "a=b"),
      initctl("start", "A=1"),
    ],
  },
  {
    name: "cross-check: restart emits stopping and starting but not stopped",
    jobs: {
      a: "exec sleep 1000\n",
      rec: `instance $UPSTART_EVENTS\n${
        recorder("starting a or started a or stopping a or stopped a", "ev")
      }`,
    },
    steps: [
      initctl("start", "a"),
      file("ev", /started/),
      initctl("restart", "a"),
      file("ev", /started[^]*started/),
      initctl("reload", "a"),
      // SIGHUP ends sleep: a fails and stops by itself. Wait for its stopped, or the stop below
      // may come while a is still stopping (and answer otherwise than "Unknown instance").
      waitFile("ev", /stopped/),
      initctl("stop", "a"),
      file("ev", /stopped/),
    ],
  },
  {
    name: "cross-check: a blocked start of a service stopped while starting is held",
    jobs: {
      a: "exec sleep 1000\n",
      h: `start on starting a
task
script
  touch @TMP@/h.up
  n=0; while [ ! -e @TMP@/go ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done
end script
`,
    },
    steps: [
      bg("start", "start", "a"),
      waitFile("h.up"),
      bg("stop", "stop", "a"),
      awaitStatus(/stop\/starting/, "a"),
      touch("go"),
      join("start"),
      join("stop"),
      initctl("status", "a"),
    ],
  },
  {
    name: "cross-check: start, stop, restart and reload while a job is in post-stop",
    jobs: {
      a: `exec sleep 1000
post-stop script
  echo post-stop >> @TMP@/out
  touch @TMP@/post.up
  n=0; while [ ! -e @TMP@/go ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done
end script
`,
      w: `instance $N
exec sleep 1000
post-stop script
  touch @TMP@/wpost.up
  n=0; while [ ! -e @TMP@/wgo ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done
end script
`,
    },
    steps: [
      initctl("start", "a"),
      quiet("stop", "-n", "a"),
      waitFile("post.up"),
      initctl("status", "a"),
      initctl("stop", "a"),
      initctl("restart", "a"),
      initctl("reload", "a"),
      bg("start", "start", "a"),
      awaitStatus(/start\/post-stop/, "a"),
      touch("go"),
      join("start"),
      file("out"),
      initctl("start", "w", "N=1"),
      quiet("stop", "-n", "w", "N=1"),
      waitFile("wpost.up"),
      initctl("stop", "w", "N=1"),
      initctl("restart", "w", "N=1"),
      initctl("status", "w", "N=1"),
      initctl("list"),
      touch("wgo"),
      awaitStatus(/Unknown instance|waiting/, "w", "N=1"),
      initctl("stop", "a"),
    ],
  },
  {
    name: "cross-check: a job file changed while it runs keeps its definition until it stops",
    jobs: { a: "exec sleep 1000\n" },
    steps: [
      initctl("start", "a"),
      { do: "job", name: "a", text: "exec sleep 2000\n" },
      initctl("reload-configuration"),
      initctl("restart", "a"),
      { do: "mainCmd", args: ["a"] },
      initctl("stop", "a"),
      initctl("start", "a"),
      { do: "mainCmd", args: ["a"] },
      initctl("stop", "a"),
    ],
  },
  {
    name: "cross-check: job files appear, change and go without reload-configuration",
    jobs: { a: "exec sleep 1000\n" },
    steps: [
      { do: "job", name: "c", text: "start on go\nexec sleep 1000\n" },
      { do: "await", args: ["status", "c"], match: /waiting/ },
      { do: "job", name: "sub/d", text: "exec true\n" },
      { do: "await", args: ["status", "sub/d"], match: /waiting/ },
      { do: "job", name: "c", text: "start on other\nexec sleep 1000\n" },
      { do: "await", args: ["show-config", "c"], match: /other/ },
      { do: "job", name: "a", ext: "override", text: "start on third\n" },
      { do: "await", args: ["show-config", "a"], match: /third/ },
      { do: "job", name: "c", text: null },
      { do: "await", args: ["status", "c"], match: /Unknown job/ },
      initctl("list"),
    ],
  },
  {
    name: "cross-check: symlinked job files and directories",
    jobs: {
      a: "exec sleep 1000\n",
      mk: `task
script
  ln -s @TMP@/../conf/a.conf @TMP@/../conf/b.conf
  mkdir -p @TMP@/other
  echo "exec true" > @TMP@/other/x.conf
  ln -s @TMP@/other @TMP@/../conf/linked
  ln -s @TMP@/nowhere.conf @TMP@/../conf/dangling.conf
end script
`,
    },
    steps: [
      initctl("start", "mk"),
      initctl("reload-configuration"),
      initctl("list"),
    ],
  },
  {
    name: "cross-check: a job process's ignored signals, cwd, umask, stdin and $0",
    jobs: {
      // Hex digits 8 and 9 of SigIgn (signals 29-36) are left out: the oracle inherits signals
      // 32 and 33 ignored from the Deno test runner (Rust's spawn, like glibc's posix_spawn, leaves
      // them SIG_IGN) and cannot reset them; upkeep's jobs have them at default
      // (tests/e2e/process_test.ts checks that).
      s: `task
script
  awk '/^SigIgn/{print "SigIgn:", substr($2,1,7) "__" substr($2,10)}' /proc/$$/status >> @TMP@/out
  echo "cwd=$(pwd) umask=$(umask) stdin=$(readlink /proc/$$/fd/0) nice=$(cut -d' ' -f19 /proc/$$/stat)" >> @TMP@/out
  echo "0=$0" >> @TMP@/out
end script
`,
      e: "task\nexec sh -c 'awk \"/^SigIgn/{print substr(\\$2,1,7) substr(\\$2,10)}\" /proc/$$/status > @TMP@/oute; echo 0=$0 >> @TMP@/oute'\n",
      one: 'task\nscript\n  echo "0=$0 $-" >> @TMP@/outone\nend script\n',
    },
    steps: [
      initctl("start", "s"),
      file("out"),
      initctl("start", "e"),
      file("oute"),
      initctl("start", "one"),
      file("outone"),
    ],
  },
  {
    name: "cross-check: console none writes no log; logs append across runs",
    jobs: {
      n: "console none\ntask\nexec echo hidden\n",
      l: "task\nexec echo run\n",
      o: "console log\ntask\nscript\n  printf 'no newline'\nend script\n",
    },
    steps: [
      initctl("start", "n"),
      initctl("start", "l"),
      initctl("start", "l"),
      log("l.log", /run\r?\nrun/),
      initctl("start", "o"),
      log("o.log", /no newline/),
      { do: "touch", path: "probe" },
    ],
  },
  {
    name: "cross-check: event names are matched exactly, globs only in values",
    jobs: {
      g: svc("start on foo*"),
      q: svc("start on fo?"),
      k: svc("start on foo A=1 A=2"),
    },
    steps: [
      initctl("emit", "foobar"),
      initctl("emit", "foo"),
      initctl("list"),
      initctl("emit", "foo*"),
      initctl("emit", "fo?"),
      initctl("list"),
      initctl("emit", "foo", "A=1"),
      initctl("status", "k"),
      initctl("emit", "foo", "A=1", "A=2"),
      initctl("status", "k"),
    ],
  },
  {
    name: "cross-check: start on stopping blocks the stopping job; stopped RESULT=ok",
    jobs: {
      a: "exec sleep 1000\n",
      b: `start on stopping a
task
script
  echo "b ran RESULT=$RESULT" >> @TMP@/out
end script
`,
      c: svc("start on stopped a RESULT=ok"),
      d: svc("start on stopped a RESULT=failed"),
    },
    steps: [
      initctl("start", "a"),
      initctl("stop", "a"),
      file("out"),
      initctl("list"),
    ],
  },
  {
    name: "cross-check: get-env, set-env, list-env with -g and -j outside a job",
    jobs: {},
    steps: [
      initctl("set-env", "-g", "G=1"),
      initctl("get-env", "-g", "G"),
      initctl("unset-env", "-g", "G"),
      initctl("get-env", "G"),
      initctl("reset-env", "-g"),
      initctl("list-env", "-g", "-x"),
      initctl("get-env", "-j", "x"),
      initctl("set-env", "--global", "H=2"),
      initctl("get-env", "--global", "H"),
    ],
  },
  {
    name: "cross-check: order of hooks and job events through a start and a stop",
    jobs: {
      a: `pre-start exec sh -c 'echo pre-start >> @TMP@/out'
post-start exec sh -c 'echo post-start >> @TMP@/out'
exec sleep 1000
pre-stop exec sh -c 'echo pre-stop >> @TMP@/out'
post-stop exec sh -c 'echo post-stop >> @TMP@/out'
`,
      rec: `instance $UPSTART_EVENTS
start on starting a or started a or stopping a or stopped a
task
exec sh -c 'echo "event $UPSTART_EVENTS" >> @TMP@/out'
`,
    },
    steps: [
      initctl("start", "a"),
      file("out", /event started/),
      initctl("stop", "a"),
      file("out", /event stopped/),
    ],
  },
  {
    name: "cross-check: hooks run when the main process ends by itself or pre-start fails",
    jobs: {
      a: `pre-stop exec sh -c 'echo a pre-stop >> @TMP@/out'
post-stop exec sh -c 'echo "a post-stop" >> @TMP@/out'
exec sh -c 'exit 0'
`,
      b: `pre-start exec sh -c 'exit 1'
pre-stop exec sh -c 'echo b pre-stop >> @TMP@/outb'
post-stop exec sh -c 'echo "b post-stop" >> @TMP@/outb'
exec sleep 1000
`,
      c: `post-stop exec sh -c 'echo "c post-stop" >> @TMP@/outc'
exec /nonexistent/binary
`,
      rec: `instance $JOB\n${recorder("stopped JOB=[abc]", "ev")}`,
    },
    steps: [
      quiet("start", "a"),
      waitFile("ev", /\n/),
      file("out"),
      initctl("start", "b"),
      file("outb"),
      // The recorder of b's stopped runs beside the next steps: its line before c's, in order.
      waitFile("ev", /\n.*\n/),
      quiet("start", "c"),
      file("outc"),
      file("ev", /\n.*\n.*\n/),
    ],
  },
  {
    name: "cross-check: exec lines with ~, continuation lines and trailing spaces",
    jobs: {
      tilde: "task\nexec /bin/echo ~root x~\n",
      cont: "task\nexec /bin/echo a \\\n  b\n",
      trail: "task\nexec /bin/echo  lead   trail   \n",
      pct: "task\nexec /bin/echo 100% a!b ^c\n",
      tab: "task\nexec\t/bin/echo\ttabbed\targs\n",
    },
    steps: [
      initctl("start", "tilde"),
      log("tilde.log", /\w/),
      initctl("start", "cont"),
      log("cont.log", /\w/),
      initctl("start", "trail"),
      log("trail.log", /lead/),
      initctl("start", "pct"),
      log("pct.log", /\w/),
      initctl("start", "tab"),
      log("tab.log", /\w/),
    ],
  },
  {
    name: "cross-check: script bodies keep indentation, comments and here-documents",
    jobs: {
      a: `task
script
\tcat <<-EOT
\ttab-stripped
\tEOT
    cat <<EOT
    kept indent
EOT
  # a comment line
  echo "hash # inside" \\
    continued
end script
`,
    },
    steps: [initctl("start", "a"), log("a.log", /continued/)],
  },
  {
    name: "cross-check: stop on without variables stops every instance; emit waits for all",
    jobs: {
      w: `instance $N
stop on halt
exec sleep 1000
post-stop exec sh -c 'echo "post-stop $N" >> @TMP@/out-$N'
`,
    },
    steps: [
      initctl("start", "w", "N=1"),
      initctl("start", "w", "N=2"),
      initctl("emit", "halt"),
      initctl("list"),
      file("out-1"),
      file("out-2"),
    ],
  },
  {
    name: "cross-check: nested and/or with parentheses in stop on",
    jobs: {
      a: "start on go\nstop on (x and (y or z)) or w\nexec sleep 1000\n",
      seen: `instance $UPSTART_EVENTS\n${recorder("x or y or z or w", "seen")}`,
    },
    steps: [
      initctl("emit", "go"),
      bg("z", "emit", "z"),
      waitFile("seen", /z/),
      initctl("status", "a"),
      bg("x", "emit", "x"),
      awaitStatus(/waiting/, "a"),
      join("x"),
      join("z"),
      initctl("emit", "go"),
      initctl("emit", "w"),
      initctl("status", "a"),
    ],
  },
  {
    name: "cross-check: show-config and check-config of manual jobs and overrides",
    jobs: {
      m: "start on go\nstop on halt\nmanual\nexec true\n",
      n: "start on go\nexec true\n",
      "n.override": "manual\nemits from-override\n",
      o: "exec true\n",
      "o.override": "start on started m or stopped n\nstop on never-emitted\n",
      p: "manual\nstart on ev2\nstop on ev3\n",
    },
    steps: [
      initctl("show-config"),
      initctl("show-config", "-e"),
      initctl("check-config"),
      initctl("check-config", "-w"),
    ],
  },
  {
    name: "cross-check: log names for empty instances; UPSTART_JOB of a job in a sub-directory",
    jobs: {
      w: "instance $N\ntask\nexec echo inst=$N\n",
      "sub/j": "task\nexec sh -c 'echo job=$UPSTART_JOB inst=[$UPSTART_INSTANCE]'\n",
      "sub/k": "instance $N\ntask\nexec sh -c 'echo job=$UPSTART_JOB inst=[$UPSTART_INSTANCE]'\n",
    },
    steps: [
      initctl("start", "w", "N="),
      log("w.log", /inst/),
      initctl("start", "sub/j"),
      log("sub_j.log", /job/),
      initctl("start", "sub/k", "N=a b"),
      log("sub_k-a b.log", /job/),
    ],
  },
  {
    name: "cross-check: env stanza values with = and an empty value",
    jobs: {
      a: `env A=b=c
env B=
env C=""
task
script
  echo "A=$A B=[\${B-unset}] C=[\${C-unset}]" >> @TMP@/out
end script
`,
    },
    steps: [initctl("start", "a"), file("out")],
  },
  {
    name: "cross-check: a task started at startup that emits an event starting a service",
    jobs: {
      t: "start on startup\ntask\nexec @BIN@/initctl emit boot-done STAGE=1\n",
      s: "start on boot-done STAGE=1\nexec sleep 1000\n",
      r: "start on stopped t\ntask\nexec sh -c 'echo \"t done RESULT=$RESULT\" >> @TMP@/out'\n",
    },
    steps: [
      awaitStatus(/running/, "s"),
      file("out"),
      initctl("list"),
    ],
  },
];
