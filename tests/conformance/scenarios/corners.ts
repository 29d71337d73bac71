/** More corners found by running both side by side. */

import {
  awaitStatus,
  file,
  initctl,
  quiet,
  recorder,
  type Scenario,
  waitFile,
} from "../scenario.ts";

export const CORNERS: Scenario[] = [
  {
    name: "env KEY for a variable the daemon does not have removes a set-env value",
    jobs: {
      a: `env ONLY_SET
env OTHER=x
task
script
  echo "ONLY_SET=\${ONLY_SET-unset} OTHER=$OTHER KEPT=\${KEPT-unset}" >> @TMP@/out
end script
`,
    },
    steps: [
      initctl("set-env", "ONLY_SET=from-set-env"),
      initctl("set-env", "KEPT=yes"),
      initctl("start", "a"),
      file("out"),
    ],
  },
  {
    name: "an empty instance name, and instances named by several variables",
    jobs: {
      w: "instance $N\nexec sleep 1000\n",
      two: "instance $A-$B\nexec sleep 1000\n",
    },
    steps: [
      initctl("start", "w", "N="),
      initctl("status", "w", "N="),
      initctl("list"),
      initctl("start", "two", "A=x", "B=y"),
      initctl("start", "two", "B=y"),
      initctl("status", "two", "A=x", "B=y"),
      initctl("stop", "w", "N="),
      initctl("stop", "two", "A=x", "B=y"),
    ],
  },
  {
    name: "notify commands",
    jobs: {},
    steps: [
      initctl("notify-disk-writeable"),
      initctl("notify-cgroup-manager-address", "unix:abstract=/nothing"),
      initctl("notify-dbus-address"),
      initctl("notify-cgroup-manager-address"),
    ],
  },
  {
    name: "show-config prints values, operators and globs in normal form",
    jobs: {
      a: `start on (foo A="b c" or bar B!=x) and baz 1 2 KEY=$VAR
stop on runlevel [!2345] or stopping a JOB=x
emits one two "three four"
`,
      b: "start on a or b or c and d\nstop on (a and (b or (c and d)))\n",
      c: "start on foo A=\nstop on 'quoted event'\n",
    },
    steps: [
      initctl("show-config", "a"),
      initctl("show-config", "b"),
      initctl("show-config", "c"),
      initctl("show-config", "-e", "a"),
      initctl("show-config", "-e", "b"),
      initctl("show-config", "-e", "c"),
    ],
  },
  {
    name: "restart, reload and stop from inside a job act on that instance without waiting",
    jobs: {
      a: `instance $N
script
  trap 'echo HUP >> @TMP@/out-$N' HUP
  echo started >> @TMP@/out-$N
  if [ ! -e @TMP@/restarted-$N ]; then
    touch @TMP@/restarted-$N
    @BIN@/restart; echo "restart=$?" >> @TMP@/out-$N
  fi
  @BIN@/reload; echo "reload=$?" >> @TMP@/out-$N
  while :; do sleep 0.1; done
end script
`,
    },
    steps: [
      quiet("start", "a", "N=1"),
      file("out-1", /started\n(.*\n)*started\n(.*\n)*reload=0\n/),
      awaitStatus(/running/, "a", "N=1"),
      initctl("stop", "a", "N=1"),
    ],
  },
  {
    name: "a pre-start starts another job and waits for it",
    jobs: {
      a: `pre-start script
  @BIN@/start b > @TMP@/out 2>&1
  echo "rc=$?" >> @TMP@/out
end script
exec sleep 1000
`,
      b: "exec sleep 1000\npost-start exec sh -c 'echo b up >> @TMP@/outb'\n",
    },
    steps: [
      initctl("start", "a"),
      file("out"),
      file("outb"),
      initctl("list"),
      initctl("stop", "b"),
      initctl("stop", "a"),
    ],
  },
  {
    name: "oom score and the process group of a job",
    jobs: {
      a: `oom score 250
task
script
  echo "oom=$(cat /proc/self/oom_score_adj)" >> @TMP@/out
  pgrp=$(cut -d' ' -f5 /proc/$$/stat)
  sid=$(cut -d' ' -f6 /proc/$$/stat)
  [ "$pgrp" = "$$" ] && [ "$sid" = "$$" ] && echo "group and session leader" >> @TMP@/out || echo "not leader" >> @TMP@/out
end script
`,
    },
    steps: [initctl("start", "a"), file("out", /\n.*\n/)],
  },
  {
    name: "stop on with an undefined $VAR and empty values",
    jobs: {
      a: "start on go\nstop on halt X=$UNDEFINED\nexec sleep 1000\n",
      b: "start on go\nstop on halt Y=\nexec sleep 1000\n",
      c: "start on go E=\nexec sleep 1000\n",
      seen: recorder("halt", "seen"),
    },
    steps: [
      initctl("emit", "go"),
      initctl("list"),
      initctl("emit", "halt", "X=", "Y=1"),
      waitFile("seen"),
      initctl("list"),
      initctl("emit", "halt", "Y="),
      initctl("list"),
      initctl("emit", "go", "E="),
      initctl("list"),
    ],
  },
  {
    name: "reload of a job without a main process, and of an instance",
    jobs: {
      a: "pre-start exec true\n",
      w: "instance $N\npre-start exec true\n",
      r: "reload signal 34\nexec sleep 1000\n",
    },
    steps: [
      initctl("start", "a"),
      initctl("reload", "a"),
      initctl("start", "w", "N=1"),
      initctl("reload", "w", "N=1"),
      initctl("start", "r"),
      initctl("reload", "r"),
      awaitStatus(/waiting/, "r"),
      initctl("stop", "a"),
      initctl("stop", "w", "N=1"),
    ],
  },
];
