/** Respawn, respawn limit, normal exit, failures and the stopped event that reports them. */

import {
  awaitFresh,
  awaitStatus,
  file,
  initctl,
  kill,
  quiet,
  recorder,
  type Scenario,
  waitFile,
} from "../scenario.ts";

export const RESPAWN: Scenario[] = [
  {
    name: "respawn: a killed main process comes back with a new pid",
    jobs: { r: "respawn\nexec sleep 1000\n", rec: recorder("starting r or stopping r", "ev") },
    steps: [
      initctl("start", "r"),
      kill("KILL", "r"),
      awaitFresh(/start\/running/, "r"),
      file("ev", /starting[^]*stopping[^]*starting/),
      initctl("stop", "r"),
    ],
  },
  {
    name: "respawn: a service that exits 0 is respawned",
    jobs: {
      r: `respawn
script
  echo run >> @TMP@/runs
  [ "$(wc -l < @TMP@/runs)" -ge 2 ] && exec sleep 1000
  exit 0
end script
`,
    },
    steps: [
      quiet("start", "-n", "r"),
      file("runs", /run\nrun\n/),
      awaitStatus(/start\/running/, "r"),
      initctl("stop", "r"),
      file("runs"),
    ],
  },
  {
    name: "respawn limit: the job stops after COUNT respawns within INTERVAL",
    jobs: {
      r: `respawn
respawn limit 2 60
exec sh -c 'echo run >> @TMP@/runs; exit 7'
`,
      rec: recorder("stopped r", "ev"),
    },
    steps: [
      quiet("start", "-n", "r"),
      file("ev"),
      initctl("status", "r"),
      file("runs"),
    ],
  },
  {
    name: "respawn limit unlimited keeps respawning",
    jobs: {
      r: `respawn
respawn limit unlimited
script
  echo run >> @TMP@/runs
  [ "$(wc -l < @TMP@/runs)" -ge 15 ] && exec sleep 1000
  exit 1
end script
`,
    },
    steps: [
      quiet("start", "-n", "r"),
      file("runs", /(run\n){15}/),
      awaitStatus(/start\/running/, "r"),
      initctl("stop", "r"),
    ],
  },
  {
    name: "normal exit: listed statuses and signals end a respawning job cleanly",
    jobs: {
      a: "respawn\nnormal exit 0 3 TERM\nexec sh -c 'exit 3'\n",
      b: "respawn\nnormal exit 0 3 TERM\nexec sleep 1000\n",
      c: "respawn\nnormal exit 3\nexec sh -c 'exit 4'\n",
      rec: recorder("stopped a or stopped b", "ev"),
      recc: recorder("stopped c", "evc"),
    },
    steps: [
      quiet("start", "-n", "a"),
      // rec is one job: its line for a must be written (it then ends) before b's stopped comes,
      // else that event finds rec still running and starts nothing.
      waitFile("ev", /\n/),
      awaitStatus(/stop\/waiting/, "rec"),
      initctl("start", "b"),
      kill("TERM", "b"),
      file("ev", /\n.*\n/),
      initctl("status", "a"),
      initctl("status", "b"),
      quiet("start", "-n", "c"),
      file("evc"),
    ],
  },
  {
    name: "a main process that fails is reported by stopped (status and signal)",
    jobs: {
      a: "exec sh -c 'exit 3'\n",
      b: "exec sleep 1000\n",
      rec: recorder("stopped a or stopped b", "ev"),
    },
    steps: [
      quiet("start", "-n", "a"),
      // As above: a's line first, or b's stopped may find rec still running.
      waitFile("ev", /\n/),
      awaitStatus(/stop\/waiting/, "rec"),
      initctl("status", "a"),
      initctl("start", "b"),
      kill("SEGV", "b"),
      file("ev", /\n.*\n/),
      awaitStatus(/waiting/, "b"),
    ],
  },
  {
    name: "a failing pre-start fails the start",
    jobs: {
      a: "pre-start exec sh -c 'exit 2'\nexec sleep 1000\n",
      b: "pre-start exec sh -c 'kill -9 $$'\nexec sleep 1000\n",
      rec: recorder("stopped a or stopped b", "ev"),
    },
    steps: [
      initctl("start", "a"),
      initctl("status", "a"),
      // stopped comes after start has answered: rec (one job) must have written a's line and
      // ended before b's stopped comes, else that event finds rec running and starts nothing.
      waitFile("ev", /\n/),
      awaitStatus(/stop\/waiting/, "rec"),
      initctl("start", "b"),
      file("ev", /\n.*\n/),
    ],
  },
  {
    name: "a failing post-stop fails the stop",
    jobs: {
      a: "exec sleep 1000\npost-stop exec sh -c 'exit 4'\n",
      rec: recorder("stopped a", "ev"),
    },
    steps: [
      initctl("start", "a"),
      initctl("stop", "a"),
      file("ev"),
      initctl("status", "a"),
    ],
  },
  {
    name: "a failing post-start or pre-stop is ignored",
    jobs: {
      a: "exec sleep 1000\npost-start exec sh -c 'exit 4'\npre-stop exec sh -c 'exit 5'\n",
      rec: recorder("stopped a", "ev"),
    },
    steps: [
      initctl("start", "a"),
      initctl("stop", "a"),
      file("ev"),
    ],
  },
  {
    name: "a task that fails fails its start; a respawning task exiting 0 is done",
    jobs: {
      t: "task\nexec sh -c 'exit 1'\n",
      u: "task\nrespawn\nexec sh -c 'echo run >> @TMP@/runs'\n",
      rec: recorder("stopped t or stopped u", "ev"),
    },
    steps: [
      initctl("start", "t"),
      // As above: t's line from rec (one job) before u's stopped comes.
      waitFile("ev", /\n/),
      awaitStatus(/stop\/waiting/, "rec"),
      initctl("start", "u"),
      file("ev", /\n.*\n/),
      file("runs"),
    ],
  },
  {
    name: "kill signal and reload signal by name and number",
    jobs: {
      a: `kill signal USR1
reload signal 12
script
  trap 'echo USR2 >> @TMP@/out' USR2
  trap 'echo USR1 >> @TMP@/out; exit 0' USR1
  touch @TMP@/ready
  while :; do sleep 0.1; done
end script
`,
      b: `kill signal 2
reload signal SIGUSR1
script
  trap 'echo USR1 >> @TMP@/outb' USR1
  trap 'echo INT >> @TMP@/outb; exit 0' INT
  touch @TMP@/readyb
  while :; do sleep 0.1; done
end script
`,
      c: `script
  trap 'echo HUP >> @TMP@/outc' HUP
  touch @TMP@/readyc
  while :; do sleep 0.1; done
end script
`,
    },
    steps: [
      initctl("start", "a"),
      waitFile("ready"),
      initctl("reload", "a"),
      file("out", /USR2/),
      initctl("stop", "a"),
      file("out", /USR1/),
      initctl("start", "b"),
      waitFile("readyb"),
      initctl("reload", "b"),
      file("outb", /USR1/),
      initctl("stop", "b"),
      file("outb", /INT/),
      initctl("start", "c"),
      waitFile("readyc"),
      initctl("reload", "c"),
      file("outc", /HUP/),
      initctl("stop", "c"),
      initctl("reload", "c"),
    ],
  },
  {
    name: "kill timeout: a main process that ignores TERM is killed",
    jobs: {
      a: `kill timeout 1
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
      initctl("stop", "a"),
      file("ev"),
    ],
  },
  {
    name: "a respawning task that fails is run again until it succeeds",
    jobs: {
      t: `task
respawn
script
  echo run >> @TMP@/runs
  [ "$(wc -l < @TMP@/runs)" -ge 3 ] || exit 1
end script
`,
      rec: recorder("stopped t", "ev"),
    },
    steps: [
      initctl("start", "t"),
      file("runs"),
      file("ev"),
      initctl("status", "t"),
    ],
  },
  {
    name: "respawn limit 1: the second respawn within the interval stops the job",
    jobs: {
      r: "respawn\nrespawn limit 1 60\nexec sh -c 'echo run >> @TMP@/runs; exit 2'\n",
      rec: recorder("stopped r", "ev"),
    },
    steps: [quiet("start", "-n", "r"), file("ev"), file("runs"), initctl("status", "r")],
  },
  {
    name: "EXIT_SIGNAL names the signal, or its number when it has no name (real-time signals)",
    jobs: {
      ...Object.fromEntries(
        ["40", "64", "PWR", "STKFLT", "SYS", "USR2"].map((_, i) => [`j${i}`, "exec sleep 1000\n"]),
      ),
      rec: recorder("stopped JOB=j*", "ev"),
    },
    steps: ["40", "64", "PWR", "STKFLT", "SYS", "USR2"].flatMap((signal, i) => [
      initctl("start", `j${i}`),
      kill(signal, `j${i}`),
      awaitStatus(/waiting/, `j${i}`),
      file("ev", new RegExp(`JOB=j${i} `)),
    ]),
  },
];
