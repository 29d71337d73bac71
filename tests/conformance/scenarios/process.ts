/** What a job's processes get: environment, attributes, expect, and env handling on restart. */

import {
  awaitStatus,
  file,
  initctl,
  mainCmd,
  quiet,
  recorder,
  type Scenario,
  waitFile,
} from "../scenario.ts";

export const PROCESS: Scenario[] = [
  {
    name: "process attributes: chdir, umask, nice, limit",
    jobs: {
      a: `chdir /tmp
umask 027
nice 5
limit nofile 123 456
task
script
  echo "pwd=$(pwd) umask=$(umask) nice=$(cut -d' ' -f19 /proc/self/stat) nofile=$(ulimit -n) hard=$(ulimit -Hn)" >> @TMP@/out
end script
`,
    },
    steps: [initctl("start", "a"), file("out")],
  },
  {
    name: "job processes see UPSTART_JOB, UPSTART_INSTANCE and the start env",
    jobs: {
      a: `instance $N
task
env FIXED=yes
script
  echo "JOB=$UPSTART_JOB INSTANCE=$UPSTART_INSTANCE N=$N FIXED=$FIXED EV=\${UPSTART_EVENTS-unset}" >> @TMP@/out
end script
`,
      b: `start on go
task
script
  echo "JOB=$UPSTART_JOB EV=$UPSTART_EVENTS X=$X" >> @TMP@/outb
end script
`,
    },
    steps: [
      initctl("start", "a", "N=1", "EXTRA=2"),
      file("out"),
      initctl("emit", "go", "X=1"),
      file("outb"),
    ],
  },
  {
    name: "restart without variables starts again with the job's own environment",
    jobs: {
      a: `start on go
env FIXED=yes
script
  echo "X=\${X-unset} FIXED=$FIXED EV=\${UPSTART_EVENTS-unset}" >> @TMP@/out
  exec sleep 1000
end script
`,
    },
    steps: [
      initctl("emit", "go", "X=1"),
      file("out"),
      initctl("restart", "a"),
      file("out", /\n.*\n/),
      initctl("restart", "a", "X=2"),
      file("out", /\n.*\n.*\n/),
      initctl("stop", "a"),
      initctl("start", "a"),
      file("out", /\n.*\n.*\n.*\n/),
      initctl("stop", "a"),
    ],
  },
  {
    name: "start of a stopping instance takes the new environment",
    jobs: {
      a: `script
  echo "X=\${X-unset}" >> @TMP@/out
  exec sleep 1000
end script
pre-stop exec sh -c 'touch @TMP@/pre-stop; while [ ! -e @TMP@/go ]; do sleep 0.05; done'
`,
    },
    steps: [
      initctl("start", "a", "X=1"),
      quiet("stop", "-n", "a"),
      waitFile("pre-stop"),
      initctl("start", "-n", "a", "X=2"),
      { do: "touch", path: "go" },
      awaitStatus(/start\/running/, "a"),
      initctl("restart", "a"),
      file("out"),
      initctl("stop", "a"),
    ],
  },
  {
    name: "expect stop: the job is running once its main process stopped itself",
    jobs: { a: "expect stop\nexec sh -c 'kill -STOP $$; exec sleep 1000'\n" },
    steps: [
      initctl("start", "a"),
      mainCmd("a"),
      initctl("stop", "a"),
    ],
  },
  {
    name: "expect stop: spawned until the process stops itself, also when a stop comes first",
    jobs: {
      a: `expect stop
exec sh -c 'touch @TMP@/a.up; while [ ! -e @TMP@/go-a ]; do sleep 0.05; done; kill -STOP $$; exec sleep 1000'
`,
      b: `expect stop
exec sh -c 'touch @TMP@/b.up; while [ ! -e @TMP@/go-b ]; do sleep 0.05; done; kill -STOP $$; exec sleep 1000'
`,
    },
    steps: [
      quiet("start", "-n", "a"),
      waitFile("a.up"),
      initctl("status", "a"),
      { do: "touch", path: "go-a" },
      awaitStatus(/running/, "a"),
      mainCmd("a"),
      initctl("stop", "a"),
      quiet("start", "-n", "b"),
      waitFile("b.up"),
      initctl("stop", "-n", "b"),
      initctl("status", "b"),
      { do: "touch", path: "go-b" },
      awaitStatus(/waiting/, "b"),
    ],
  },
  {
    name: "expect fork and expect daemon follow the forked process",
    jobs: {
      f: "expect fork\nexec sh -c 'sleep 1000 & exit 0'\n",
      d: "expect daemon\nexec sh -c '(sleep 999 &) ; exit 0'\n",
    },
    steps: [
      initctl("start", "f"),
      mainCmd("f"),
      initctl("start", "d"),
      mainCmd("d"),
      initctl("stop", "f"),
      initctl("stop", "d"),
    ],
  },
  {
    name: "setuid and setgid; an unknown user fails the start",
    jobs: {
      a: `setuid nobody
task
script
  echo "uid=$(id -u) gid=$(id -g) user=$(id -un)" >> @TMP@/out
end script
`,
      b: `setuid nobody
setgid daemon
task
script
  echo "uid=$(id -u) group=$(id -gn)" >> @TMP@/outb
end script
`,
      c: "setuid no-such-user-here\nexec sleep 1000\n",
      rec: recorder("stopped c", "ev"),
    },
    steps: [
      initctl("start", "a"),
      file("out"),
      initctl("start", "b"),
      file("outb"),
      initctl("start", "c"),
      file("ev"),
      initctl("status", "c"),
    ],
  },
];
