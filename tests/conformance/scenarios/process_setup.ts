/**
 * The stanzas that set up a job's processes (limit, nice, oom score, umask, chdir, setuid/setgid,
 * kill signal/timeout), and what status and list print while several processes of a job run.
 */

import {
  awaitStatus,
  file,
  gate,
  initctl,
  quiet,
  recorder,
  type Scenario,
  touch,
  waitFile,
} from "../scenario.ts";

/** An instance job whose hooks each wait for a gate of their own instance (`HOOK-$N`). */
const GATED_INSTANCES = `instance $N
exec sleep 1000
pre-start script
  touch @TMP@/pre-start-$N.started
  [ "$N" != 1 ] || { ${gate("pre-start-$N")}; }
end script
post-start script
  touch @TMP@/post-start-$N.started
  [ "$N" != 2 ] || { ${gate("post-start-$N")}; }
end script
pre-stop script
  touch @TMP@/pre-stop-$N.started
  [ "$N" != 3 ] || { ${gate("pre-stop-$N")}; }
end script
post-stop script
  touch @TMP@/post-stop-$N.started
  [ "$N" != 4 ] || { ${gate("post-stop-$N")}; }
end script
`;

/** Resource, `limit` values, and its line in /proc/PID/limits. */
const LIMITS: readonly (readonly [string, string, string])[] = [
  ["as", "-1 unlimited", "address space"],
  ["core", "1000 2000", "core file size"],
  ["cpu", "100 unlimited", "cpu time"],
  ["data", "18446744073709551615 unlimited", "data size"],
  ["fsize", "unlimited unlimited", "file size"],
  ["memlock", "4096 8192", "locked memory"],
  ["msgqueue", "1000 1001", "msgqueue size"],
  ["nice", "0 0", "nice priority"],
  ["nofile", "+100 200", "open files"],
  ["nproc", "1000 2000", "processes"],
  ["rss", "1000 unlimited", "resident set"],
  ["rtprio", "0 0", "realtime priority"],
  ["sigpending", "1000 1000", "pending signals"],
  // Past 2^53, up to 2^64 - 2 (2^64 - 1 is unlimited): exact values.
  ["stack", "9007199254740993 18446744073709551614", "stack size"],
];

export const PROCESS_SETUP: Scenario[] = [
  {
    name: "process set-up: status and list of an instance job with a hook running in each instance",
    jobs: { w: GATED_INSTANCES },
    steps: [
      quiet("start", "-n", "w", "N=1"),
      waitFile("pre-start-1.started"),
      quiet("start", "-n", "w", "N=2"),
      waitFile("post-start-2.started"),
      initctl("start", "w", "N=3"),
      quiet("stop", "-n", "w", "N=3"),
      waitFile("pre-stop-3.started"),
      initctl("start", "w", "N=4"),
      quiet("stop", "-n", "w", "N=4"),
      waitFile("post-stop-4.started"),
      initctl("start", "w", "N=5"),
      initctl("status", "w", "N=1"),
      initctl("status", "w", "N=2"),
      initctl("status", "w", "N=3"),
      initctl("status", "w", "N=4"),
      initctl("status", "w", "N=5"),
      initctl("status", "w"),
      initctl("status", "w", "N=6"),
      initctl("list"),
      touch("pre-start-1"),
      touch("post-start-2"),
      touch("pre-stop-3"),
      touch("post-stop-4"),
      awaitStatus(/running/, "w", "N=1"),
      awaitStatus(/running/, "w", "N=2"),
      awaitStatus(/waiting|Unknown/, "w", "N=3"),
      awaitStatus(/waiting|Unknown/, "w", "N=4"),
      initctl("list"),
      initctl("stop", "w", "N=1"),
      initctl("stop", "w", "N=2"),
      initctl("stop", "w", "N=5"),
      initctl("list"),
    ],
  },
  {
    name: "process set-up: status of a single job in pre-stop, and of a task's hooks",
    jobs: {
      a: `exec sleep 1000
pre-stop script
  touch @TMP@/pre-stop.started
  ${gate("go")}
end script
`,
      t: `task
exec sleep 1000
post-start script
  touch @TMP@/t.post-start
  ${gate("go-t")}
end script
`,
    },
    steps: [
      initctl("start", "a"),
      quiet("stop", "-n", "a"),
      waitFile("pre-stop.started"),
      initctl("status", "a"),
      initctl("list"),
      touch("go"),
      awaitStatus(/waiting/, "a"),
      quiet("start", "-n", "t"),
      waitFile("t.post-start"),
      initctl("status", "t"),
      touch("go-t"),
      initctl("stop", "t"),
    ],
  },
  {
    name: "process set-up: every limit resource Upstart knows, in /proc/PID/limits",
    jobs: Object.fromEntries(
      LIMITS.map(([res, values, line]) => [
        `l-${res}`,
        `limit ${res} ${values}\ntask\nexec sh -c 'grep "^Max ${line} " /proc/self/limits > @TMP@/${res}'\n`,
      ]),
    ),
    steps: LIMITS.flatMap(([res]) => [initctl("start", `l-${res}`), file(res)]),
  },
];

PROCESS_SETUP.push({
  name: "process set-up: kill timeouts past setTimeout's 24.8 days and past 2^53 seconds",
  jobs: {
    a: `kill timeout 2147484
exec sh -c 'trap "" TERM; touch @TMP@/a.up; ${gate("go")}'
`,
    b: "kill timeout 9007199254740993\nexec sleep 1000\n",
    c: "respawn\nrespawn limit 10 9007199254740993\nexec sleep 1000\n",
  },
  steps: [
    initctl("list"),
    initctl("start", "a"),
    waitFile("a.up"),
    initctl("stop", "-n", "a"),
    initctl("status", "a"),
    touch("go"),
    awaitStatus(/waiting/, "a"),
  ],
});

PROCESS_SETUP.push({
  name: "process set-up: setgid alone sets the supplementary groups to initgroups' (root, group)",
  jobs: {
    g: `setgid daemon
task
script
  grep -E "^(Uid|Gid|Groups):" /proc/self/status > @TMP@/g
end script
`,
    ug: `setuid nobody
setgid daemon
task
script
  grep -E "^(Uid|Gid|Groups):" /proc/self/status > @TMP@/ug
end script
`,
  },
  steps: [initctl("start", "g"), file("g"), initctl("start", "ug"), file("ug")],
});

/** A shell-made daemon: a (double, for `expect daemon`) forked subshell that traps USR1 and TERM. */
function shellDaemon(name: string, expect: "fork" | "daemon"): string {
  const loop = `trap "echo usr1 >> @TMP@/${name}.sig" USR1
    trap "echo term >> @TMP@/${name}.sig; exit 0" TERM
    touch @TMP@/${name}.up
    while :; do sleep 0.05; done`;
  const daemon = expect === "fork" ? `(\n    ${loop}\n  ) &` : `( (\n    ${loop}\n  ) & exit 0 ) &`;
  return `expect ${expect}
reload signal USR1
pre-start exec touch @TMP@/${name}.pre-start
post-start exec touch @TMP@/${name}.post-start
script
  ${daemon}
  exit 0
end script
`;
}

PROCESS_SETUP.push({
  name: "process set-up: shell-made daemons with expect fork and daemon: status, reload, stop",
  jobs: { f: shellDaemon("f", "fork"), d: shellDaemon("d", "daemon") },
  steps: ["f", "d"].flatMap((j) => [
    initctl("start", j),
    waitFile(`${j}.up`),
    initctl("status", j),
    initctl("list"),
    initctl("reload", j),
    file(`${j}.sig`, /usr1/),
    initctl("stop", j),
    file(`${j}.sig`, /term/),
    initctl("status", j),
  ]),
});

PROCESS_SETUP.push({
  name: "process set-up: status of a followed daemon while its post-start and pre-stop run",
  jobs: {
    p: `expect daemon
exec sh -c '(sleep 1000 &) ; exit 0'
post-start script
  touch @TMP@/post-start.started
  ${gate("go")}
end script
pre-stop script
  touch @TMP@/pre-stop.started
  ${gate("go2")}
end script
`,
  },
  steps: [
    quiet("start", "-n", "p"),
    waitFile("post-start.started"),
    initctl("status", "p"),
    initctl("list"),
    touch("go"),
    awaitStatus(/running/, "p"),
    quiet("stop", "-n", "p"),
    waitFile("pre-stop.started"),
    initctl("status", "p"),
    touch("go2"),
    awaitStatus(/waiting/, "p"),
  ],
});

PROCESS_SETUP.push({
  name: "process set-up: setuid and setgid names are looked up inside the job's chroot",
  jobs: {
    // A chroot with /bin/sh, its libraries, and users of its own.
    mk: `task
script
  r=@TMP@/root
  mkdir -p $r/bin $r/etc $r/out
  chmod 777 $r/out
  for f in /bin/sh $(ldd /bin/sh | grep -o '/[^ ]*'); do
    mkdir -p $r$(dirname $f)
    cp -L $f $r$f
  done
  printf 'root:x:0:0::/:/bin/sh\\napp:x:4321:4321::/:/bin/sh\\n' > $r/etc/passwd
  printf 'root:x:0:\\nappg:x:4322:\\n' > $r/etc/group
end script
`,
    app: `chroot @TMP@/root
setuid app
task
exec /bin/sh -c 'echo app > /out/app'
`,
    appg: `chroot @TMP@/root
setuid app
setgid appg
task
exec /bin/sh -c 'echo appg > /out/appg'
`,
    // nobody is a user of the host, not of the chroot.
    nobody: `chroot @TMP@/root
setuid nobody
task
exec /bin/sh -c 'echo nobody > /out/nobody'
`,
    st: `task
script
  cd @TMP@/root/out
  for f in *; do echo "$f $(stat -c %u:%g $f)"; done > @TMP@/owners
end script
`,
  },
  steps: [
    initctl("start", "mk"),
    initctl("start", "app"),
    initctl("start", "appg"),
    initctl("start", "nobody"),
    initctl("start", "st"),
    file("owners"),
  ],
});

PROCESS_SETUP.push({
  name: "process set-up: an unknown group, and an unknown user in a job with hooks",
  jobs: {
    g: "setgid no-such-group-here\nexec sleep 1000\n",
    h: "setuid no-such-user-here\npre-start exec true\npost-stop exec true\nexec sleep 1000\n",
    t: "setuid no-such-user-here\ntask\nexec true\n",
    rec: `instance $JOB\n${recorder("stopped JOB=[ght]", "ev")}`,
  },
  steps: [
    initctl("start", "g"),
    file("ev", /JOB=g/),
    initctl("start", "h"),
    file("ev", /JOB=h/),
    initctl("start", "t"),
    file("ev", /JOB=t/),
    initctl("list"),
  ],
});

/** A command that writes its user, groups, umask, nice, open-files limits and cwd to @TMP@/WHAT. */
const describeSelf = (what: string) =>
  `sh -c 'echo "$(id -u):$(id -g) $(grep ^Groups: /proc/self/status | tr -d "\\t ") $(umask) ` +
  `$(cut -d" " -f19 /proc/self/stat) $(ulimit -n)/$(ulimit -Hn) $(pwd)" > @TMP@/${what}'`;

PROCESS_SETUP.push({
  name: "process set-up: hooks run with the job's user, group, umask, nice, limits and chdir",
  jobs: {
    a: `setuid nobody
setgid daemon
umask 077
nice 4
limit nofile 77 88
chdir /tmp
pre-start exec ${describeSelf("pre-start")}
post-start exec ${describeSelf("post-start")}
pre-stop exec ${describeSelf("pre-stop")}
post-stop exec ${describeSelf("post-stop")}
script
  ${describeSelf("main")}
  exec sleep 1000
end script
`,
  },
  steps: [
    initctl("start", "a"),
    file("pre-start"),
    file("main"),
    file("post-start"),
    initctl("stop", "a"),
    file("pre-stop"),
    file("post-stop"),
  ],
});

// Without a main process there is nothing for pre-stop to do: Upstart does not run it.
PROCESS_SETUP.push({
  name: "process set-up: status of a job without a main process while its hooks run",
  jobs: {
    s: `pre-start script
  touch @TMP@/pre-start.started
  ${gate("go1")}
end script
post-start script
  touch @TMP@/post-start.started
  ${gate("go2")}
end script
pre-stop exec touch @TMP@/pre-stop.started
post-stop script
  [ -e @TMP@/pre-stop.started ] && echo "pre-stop ran" > @TMP@/post-stop || echo "no pre-stop" > @TMP@/post-stop
  ${gate("go3")}
end script
`,
  },
  steps: [
    quiet("start", "-n", "s"),
    waitFile("pre-start.started"),
    initctl("status", "s"),
    touch("go1"),
    waitFile("post-start.started"),
    initctl("status", "s"),
    initctl("list"),
    touch("go2"),
    awaitStatus(/running/, "s"),
    quiet("stop", "-n", "s"),
    file("post-stop"),
    initctl("status", "s"),
    initctl("list"),
    touch("go3"),
    awaitStatus(/waiting/, "s"),
  ],
});
