/** start on / stop on: chains, operators, matching on event variables, emit, failed events. */

import {
  awaitStatus,
  bg,
  file,
  initctl,
  join,
  quiet,
  recorder,
  type Scenario,
  waitFile,
} from "../scenario.ts";

const svc = (on: string) => `${on}\nexec sleep 1000\n`;

export const EVENTS: Scenario[] = [
  {
    name: "start on started / stop on stopped chains",
    jobs: {
      a: "exec sleep 1000\n",
      b: svc("start on started a\nstop on stopped a"),
      c: svc("start on started b\nstop on stopping b"),
    },
    steps: [
      initctl("start", "a"),
      awaitStatus(/running/, "c"),
      initctl("list"),
      initctl("stop", "a"),
      awaitStatus(/waiting/, "c"),
      awaitStatus(/waiting/, "b"),
      initctl("list"),
    ],
  },
  {
    name: "start on startup runs at boot",
    jobs: { a: svc("start on startup"), t: "start on startup\ntask\nexec true\n" },
    steps: [awaitStatus(/running/, "a"), awaitStatus(/waiting/, "t")],
  },
  {
    name: "and waits for both events; or takes either",
    jobs: {
      both: svc("start on (e1 and e2)"),
      either: svc("start on e3 or e4\nstop on e5 and e6"),
      seen: recorder("e1 or e6", "seen"),
    },
    steps: [
      // An event half an `and` holds is blocked until the job starts: emit it without waiting.
      bg("e1", "emit", "e1"),
      waitFile("seen", /e1/),
      initctl("status", "both"),
      initctl("emit", "e2"),
      join("e1"),
      initctl("status", "both"),
      initctl("emit", "e4"),
      initctl("status", "either"),
      bg("e6", "emit", "e6"),
      waitFile("seen", /e6/),
      initctl("status", "either"),
      initctl("emit", "e5"),
      join("e6"),
      initctl("status", "either"),
      initctl("emit", "e3"),
      initctl("status", "either"),
    ],
  },
  {
    name: "and/or have equal precedence, left to right",
    jobs: {
      j: svc("start on a or b and c"),
      k: svc("start on a or (b and c)"),
      seen: recorder("b", "seen"),
    },
    steps: [
      bg("b", "emit", "b"),
      waitFile("seen"),
      initctl("emit", "c"),
      join("b"),
      initctl("list"),
    ],
  },
  {
    name: "event variables: KEY=VALUE, positional, globs, != and $VAR",
    jobs: {
      kv: svc("start on deploy APP=shop"),
      pos: svc("start on deploy shop"),
      glob: svc("start on deploy APP=sh*"),
      neq: svc("start on deploy APP!=shop"),
      neqabsent: svc("start on other APP!=shop"),
      dollar: svc("start on deploy APP=$APP"),
      inst: `instance $APP
start on deploy
stop on undeploy APP=$APP
exec sleep 1000
`,
    },
    steps: [
      initctl("emit", "deploy", "APP=blog"),
      initctl("list"),
      initctl("emit", "deploy", "APP=shop"),
      initctl("list"),
      initctl("emit", "other"),
      initctl("status", "neqabsent"),
      initctl("emit", "undeploy", "APP=blog"),
      initctl("list"),
    ],
  },
  {
    name: "positional event arguments match in order",
    jobs: {
      two: svc("start on net IFACE=eth0 inet"),
      first: svc("start on net eth0"),
      second: svc("start on net lo"),
    },
    steps: [
      initctl("emit", "net", "IFACE=eth0", "ADDRFAM=inet"),
      initctl("list"),
    ],
  },
  {
    name: "the job sees the event's variables and UPSTART_EVENTS",
    jobs: {
      a: `start on deploy and (ready or set)
script
  echo "APP=$APP MODE=$MODE EVENTS=$UPSTART_EVENTS" >> @TMP@/out
  exec sleep 1000
end script
`,
      seen: recorder("deploy", "seen"),
    },
    steps: [
      bg("deploy", "emit", "deploy", "APP=shop", "MODE=fast"),
      waitFile("seen"),
      initctl("emit", "set", "MODE=slow"),
      join("deploy"),
      file("out"),
      initctl("status", "a"),
    ],
  },
  {
    name: "stop on gives pre-stop the stopping event's variables",
    jobs: {
      a: `start on go
stop on halt
exec sleep 1000
pre-stop exec sh -c 'echo "WHY=$WHY STOP=$UPSTART_STOP_EVENTS" >> @TMP@/out'
post-stop exec sh -c 'echo "post-stop WHY=$WHY" >> @TMP@/out'
`,
      b: `exec sleep 1000
pre-stop exec sh -c 'echo "b WHY=$WHY" >> @TMP@/outb'
`,
    },
    steps: [
      initctl("emit", "go"),
      initctl("emit", "halt", "WHY=because"),
      file("out", /post-stop/),
      initctl("start", "b"),
      initctl("stop", "b", "WHY=asked"),
      file("outb"),
    ],
  },
  {
    name: "emit waits for the jobs it starts; a failing one fails the event",
    jobs: {
      ok: "start on good\ntask\nexec sh -c 'echo ok >> @TMP@/out'\n",
      bad: "start on bad\ntask\nexec sh -c 'exit 1'\n",
      rec: recorder("bad/failed", "ev"),
    },
    steps: [
      initctl("emit", "good"),
      file("out"),
      initctl("emit", "bad"),
      file("ev"),
      initctl("emit", "-n", "bad"),
    ],
  },
  {
    name: "emit: arguments and env checks",
    jobs: { a: svc("start on foo") },
    steps: [
      initctl("emit"),
      initctl("emit", "foo", "bar"),
      initctl("status", "a"),
      initctl("emit", "foo", "=1"),
      initctl("status", "a"),
      initctl("emit", "-n", "foo"),
    ],
  },
  {
    name: "an event emitted from a job starts another job",
    jobs: {
      a: "task\nexec @BIN@/initctl emit --no-wait custom FROM=a\n",
      b: svc("start on custom FROM=a"),
    },
    steps: [
      initctl("start", "a"),
      awaitStatus(/running/, "b"),
    ],
  },
  {
    name: "starting and stopping events carry JOB and INSTANCE of instances",
    jobs: {
      w: "instance $N\nexec sleep 1000\n",
      rec: recorder("started w or stopped w", "ev", ["N"]),
    },
    steps: [
      initctl("start", "w", "N=1"),
      // rec is one job: the started line written (rec then ends) before stopped comes.
      waitFile("ev", /\n/),
      awaitStatus(/stop\/waiting/, "rec"),
      initctl("stop", "w", "N=1"),
      file("ev", /\n.*\n/),
    ],
  },
  {
    name: "export adds job variables to its events",
    jobs: {
      a: "env COLOR=blue\nexport COLOR\nexec sleep 1000\n",
      rec: recorder("started a COLOR=blue", "ev", ["COLOR"]),
    },
    steps: [
      initctl("start", "a"),
      file("ev"),
      initctl("stop", "a"),
    ],
  },
  {
    name: "manual cancels the start on lines above it",
    jobs: {
      m: "start on go\nmanual\nexec sleep 1000\n",
      n: "manual\nstart on go\nexec sleep 1000\n",
    },
    steps: [
      initctl("emit", "go"),
      initctl("list"),
      quiet("start", "m"),
      initctl("list"),
    ],
  },
];

export const MORE_EVENTS: Scenario[] = [
  {
    name: "starting and stopping block the job until the jobs they start have settled",
    jobs: {
      a: "exec sleep 1000\n",
      svc: `start on starting a
stop on stopping a
exec sleep 1000
post-start exec sh -c 'echo svc up >> @TMP@/out'
post-stop exec sh -c 'echo svc down >> @TMP@/out'
`,
      rec: recorder("started a or stopped a", "out"),
    },
    steps: [
      initctl("start", "a"),
      file("out", /started/),
      initctl("status", "svc"),
      initctl("stop", "a"),
      file("out", /stopped/),
      initctl("status", "svc"),
    ],
  },
  {
    name: "a job failing on starting fails the event but not the job it waited for",
    jobs: {
      a: "exec sleep 1000\n",
      b: "start on starting a\npre-start exec sh -c 'exit 1'\nexec sleep 1000\n",
      rec: recorder("starting/failed", "ev"),
    },
    steps: [
      initctl("start", "a"),
      file("ev"),
      initctl("status", "b"),
      initctl("stop", "a"),
    ],
  },
  {
    name: "stop on and start on the same event: stop is handled first",
    jobs: {
      a: "start on flip\nstop on flip\nexec sleep 1000\n",
    },
    steps: [
      initctl("emit", "flip"),
      initctl("status", "a"),
      initctl("emit", "flip"),
      initctl("status", "a"),
      initctl("stop", "a"),
    ],
  },
  {
    name: "event variables: repeated keys, order, and job events emitted by hand",
    jobs: {
      a: svc("start on foo A=2"),
      b: svc("start on foo B=1 A=1"),
      c: svc("start on started JOB=fake"),
      d: svc("start on started fake"),
    },
    steps: [
      initctl("emit", "foo", "A=1", "A=2"),
      initctl("list"),
      initctl("emit", "foo", "A=1", "B=1"),
      initctl("status", "b"),
      initctl("emit", "started", "JOB=fake"),
      initctl("status", "c"),
      initctl("status", "d"),
    ],
  },
  {
    name: "an instance job started by events gets one instance per name",
    jobs: {
      w: "instance $SITE\nstart on deploy\nstop on undeploy SITE=$SITE\nexec sleep 1000\n",
    },
    steps: [
      initctl("emit", "deploy", "SITE=a"),
      initctl("emit", "deploy", "SITE=b"),
      initctl("emit", "deploy", "SITE=a"),
      initctl("list"),
      initctl("emit", "undeploy", "SITE=a"),
      initctl("list"),
      initctl("emit", "deploy"),
      initctl("list"),
      initctl("emit", "undeploy", "SITE=b"),
    ],
  },
  {
    name: "event matching: glob classes, escapes, = in values, missing arguments",
    jobs: {
      cls: svc("start on e A=[ab]*"),
      one: svc("start on e A=?"),
      esc: svc("start on e A=\\*"),
      any: svc("start on e A=*"),
      none: svc("start on e A!=*"),
      eq: svc("start on e A=b=c"),
      more: svc("start on e x y"),
      neg: svc("start on e A![ab]*"),
    },
    steps: [
      initctl("emit", "e", "A=b=c"),
      initctl("list"),
      initctl("emit", "e", "A=*"),
      initctl("list"),
      initctl("emit", "e", "A=z"),
      initctl("list"),
      initctl("emit", "e", "A="),
      initctl("list"),
    ],
  },
  {
    name: "runlevel jobs: start on runlevel [2345], stop on runlevel [!2345]",
    jobs: {
      svc: svc("start on runlevel [2345]\nstop on runlevel [!2345]"),
      rc: "start on runlevel [06]\ntask\nexec sh -c 'echo rc $RUNLEVEL $PREVLEVEL >> @TMP@/out'\n",
    },
    steps: [
      initctl("status", "svc"),
      initctl("emit", "runlevel", "RUNLEVEL=2", "PREVLEVEL=N"),
      initctl("status", "svc"),
      initctl("emit", "runlevel", "RUNLEVEL=3", "PREVLEVEL=2"),
      initctl("status", "svc"),
      initctl("emit", "runlevel", "RUNLEVEL=0", "PREVLEVEL=3"),
      initctl("status", "svc"),
      file("out"),
    ],
  },
];
