/** Hook processes and goal changes: what a stop, start or restart does while a hook runs. */

import {
  awaitStatus,
  bg,
  file,
  gate,
  initctl,
  join,
  kill,
  quiet,
  recorder,
  type Scenario,
  touch,
  waitFile,
} from "../scenario.ts";

/** A service whose `hook` writes @TMP@/HOOK.started, waits for @TMP@/go, then notes its end. */
function gated(hook: string, extra = ""): string {
  return `exec sleep 1000
${hook} script
  touch @TMP@/${hook}.started
  ${gate("go")}
  echo ${hook} done >> @TMP@/out
end script
${extra}`;
}

export const HOOKS: Scenario[] = [
  {
    name: "the main process ending during post-start waits for the post-start",
    jobs: { a: gated("post-start"), rec: recorder("stopped a", "events") },
    steps: [
      quiet("start", "-n", "a"),
      waitFile("post-start.started"),
      initctl("status", "a"),
      kill("KILL", "a"),
      awaitStatus(/stop\/post-start/, "a"),
      touch("go"),
      awaitStatus(/waiting/, "a"),
      file("events"),
      file("out"),
    ],
  },
  {
    name: "a respawning main ending during post-start shows goal respawn until it ends",
    jobs: { a: gated("post-start", "respawn\n") },
    steps: [
      quiet("start", "-n", "a"),
      waitFile("post-start.started"),
      kill("KILL", "a"),
      awaitStatus(/respawn\/post-start/, "a"),
      touch("go"),
      { do: "await", args: ["status", "a"], match: /start\/running/, fresh: true },
      file("out", /post-start done\npost-start done/),
      initctl("stop", "a"),
    ],
  },
  {
    name: "the main process ending during pre-stop waits for the pre-stop",
    jobs: { a: gated("pre-stop"), rec: recorder("stopped a", "events") },
    steps: [
      initctl("start", "a"),
      bg("stop", "stop", "a"),
      waitFile("pre-stop.started"),
      awaitStatus(/pre-stop/, "a"),
      kill("KILL", "a"),
      awaitStatus(/stop\/pre-stop, \(pre-stop\)/, "a"),
      touch("go"),
      join("stop"),
      file("events"),
    ],
  },
  {
    name: "start during pre-stop takes the job back to running with the same process",
    jobs: { a: gated("pre-stop") },
    steps: [
      initctl("start", "a"),
      initctl("stop", "-n", "a"),
      waitFile("pre-stop.started"),
      initctl("status", "a"),
      bg("start", "start", "a"),
      awaitStatus(/start\/pre-stop/, "a"),
      touch("go"),
      join("start"),
      initctl("status", "a"),
      initctl("stop", "a"),
    ],
  },
  {
    name: "restart while a pre-stop runs goes back to running (Upstart's restart caveat)",
    jobs: { a: gated("pre-stop") },
    steps: [
      initctl("start", "a"),
      bg("restart", "restart", "a"),
      waitFile("pre-stop.started"),
      awaitStatus(/start\/pre-stop/, "a"),
      touch("go"),
      join("restart"),
      initctl("status", "a"),
    ],
  },
  {
    name: "restart stops and starts a service with a new main process",
    jobs: {
      a: "exec sleep 1000\npre-start exec sh -c 'echo pre-start >> @TMP@/out'\n" +
        "post-stop exec sh -c 'echo post-stop >> @TMP@/out'\n",
      rec: recorder("stopping a or starting a or stopped a", "events"),
    },
    steps: [
      initctl("start", "a"),
      initctl("restart", "a"),
      initctl("status", "a"),
      file("out", /pre-start\npost-stop\npre-start/),
      quiet("restart", "-n", "a"),
      awaitStatus(/start\/running/, "a"),
      initctl("stop", "a"),
      initctl("restart", "a"),
      file("events", /stopped/),
    ],
  },
  {
    name: "a main process dying while stopping is held by another job leaks no respawn goal",
    jobs: {
      a: "respawn\nexec sleep 1000\n",
      h: `start on stopping a
task
script
  touch @TMP@/h.started
  ${gate("go")}
end script
`,
    },
    steps: [
      initctl("start", "a"),
      bg("restart", "restart", "a"),
      waitFile("h.started"),
      initctl("status", "a"),
      kill("KILL", "a"),
      awaitStatus(/start\/stopping$/m, "a"),
      initctl("status", "h"),
      touch("go"),
      join("restart"),
      initctl("status", "a"),
      initctl("stop", "a"),
      initctl("start", "a"),
      initctl("status", "a"),
    ],
  },
  {
    name: "a main process dying while a stop is held by another job ends normally",
    jobs: {
      a: "exec sleep 1000\n",
      h: `start on stopping a
task
script
  touch @TMP@/h.started
  ${gate("go")}
end script
`,
      rec: recorder("stopped a", "events"),
    },
    steps: [
      initctl("start", "a"),
      bg("stop", "stop", "a"),
      waitFile("h.started"),
      initctl("status", "a"),
      kill("TERM", "a"),
      awaitStatus(/stop\/stopping$/m, "a"),
      touch("go"),
      join("stop"),
      file("events"),
    ],
  },
  {
    name: "start blocks in starting until the job started by starting has finished",
    jobs: {
      a: "exec sleep 1000\n",
      b: `start on starting a
task
script
  touch @TMP@/b.started
  ${gate("go")}
end script
`,
    },
    steps: [
      bg("start", "start", "a"),
      waitFile("b.started"),
      awaitStatus(/starting/, "a"),
      initctl("status", "b"),
      touch("go"),
      join("start"),
      awaitStatus(/waiting/, "b"),
      initctl("stop", "a"),
    ],
  },
  {
    name: "status lists every live process with the first one on the status line",
    jobs: {
      a: gated("post-start"),
      b: "exec sleep 1000\n" + `post-stop script
  touch @TMP@/post-stop.started
  ${gate("go")}
end script
`,
      c: `pre-start script
  touch @TMP@/pre-start.started
  ${gate("go")}
end script
`,
    },
    steps: [
      quiet("start", "-n", "a"),
      waitFile("post-start.started"),
      initctl("status", "a"),
      initctl("start", "b"),
      quiet("stop", "-n", "b"),
      waitFile("post-stop.started"),
      initctl("status", "b"),
      quiet("start", "-n", "c"),
      waitFile("pre-start.started"),
      initctl("status", "c"),
      initctl("list"),
      touch("go"),
      awaitStatus(/running/, "a"),
      awaitStatus(/waiting/, "b"),
      awaitStatus(/running/, "c"),
      initctl("list"),
    ],
  },
  {
    name: "start, stop and restart while a stop is held: words and where the job ends",
    jobs: {
      a: gated("pre-stop"),
      w: `instance $N
exec sleep 1000
pre-stop script
  touch @TMP@/w.pre-stop
  ${gate("gow")}
end script
`,
    },
    steps: [
      initctl("start", "a"),
      quiet("stop", "-n", "a"),
      waitFile("pre-stop.started"),
      initctl("stop", "a"),
      initctl("restart", "a"),
      initctl("start", "w", "N=1"),
      quiet("stop", "-n", "w", "N=1"),
      waitFile("w.pre-stop"),
      initctl("stop", "w", "N=1"),
      initctl("restart", "w", "N=1"),
      initctl("status", "w", "N=1"),
      touch("gow"),
      awaitStatus(/Unknown instance: 1/, "w", "N=1"),
      bg("start", "start", "a"),
      awaitStatus(/start\/pre-stop/, "a"),
      touch("go"),
      join("start"),
      initctl("stop", "a"),
    ],
  },
];
