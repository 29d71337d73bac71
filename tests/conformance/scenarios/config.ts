/** Job files: show-config, check-config, parse errors and their lines, reloads, overrides. */

import { initctl, job, parseErrors, type Scenario, waitFile } from "../scenario.ts";

export const CONFIG: Scenario[] = [
  {
    name: "show-config prints emits, start on and stop on in normal form",
    jobs: {
      a: "emits foo bar\nstart on started b and (x or y KEY=v)\nstop on stopping b\nexec true\n",
      b: "start on runlevel [2345] or (net-device-up IFACE!=lo and local-filesystems)\n" +
        "stop on runlevel [!2345]\nexec true\n",
      c: "exec true\n",
      "sub/d": "start on starting a\nemits baz\n",
    },
    steps: [
      initctl("show-config"),
      initctl("show-config", "a"),
      initctl("show-config", "-e"),
      initctl("show-config", "-e", "b"),
      initctl("show-config", "sub/d"),
      initctl("show-config", "nosuch"),
    ],
  },
  {
    name: "check-config reports unknown jobs and events and exits 1",
    jobs: {
      a: "start on started nosuch\nstop on custom-event\nexec true\n",
      b: "emits custom-*\nstart on startup or never-emitted\nexec true\n",
      c: "start on stopped a or stopped b\nexec true\n",
      d: "start on x and y\nexec true\n",
    },
    steps: [
      initctl("check-config"),
      initctl("check-config", "a"),
      initctl("check-config", "c"),
      initctl("check-config", "-w"),
      initctl("check-config", "-i", "x,y,never-emitted"),
      initctl("check-config", "--ignore-events=x", "d"),
    ],
  },
  {
    name: "check-config and show-config on tricky conditions (names with spaces, globs, repeats)",
    jobs: {
      a: "start on started b and (stopping c or stopped d RESULT=failed) and e A=1 B!=2\n" +
        "stop on starting b or f\nemits g h*\n",
      b: "start on starting a\nstop on stopped a\nmanual\n",
      c: "start on (startup)\nstop on ((stopped JOB=))\n",
      d: "start on x\nstart on y\nstop on z\nstop on w\nemits x\nemits y z\n",
      e: "start on started nosuch and stopping nojob\nstop on nothing-emits-this\n",
      f: "emits started\nstart on started\n",
      "g/h": "start on started g/h or stopped a\n",
      i: `start on 'quoted name' and "x y" and "x d"\nstop on a=b c\n`,
    },
    steps: [
      initctl("show-config"),
      initctl("show-config", "-e"),
      initctl("check-config"),
      initctl("check-config", "-w"),
      initctl("check-config", "-i", "nothing-emits-this"),
      initctl("check-config", "--ignore-events", "w,x"),
      initctl("check-config", "i"),
    ],
  },
  {
    name: "check-config knows init's own events, not EVENT/failed nor boot events",
    jobs: {
      a: "start on session-end or debug or control-alt-delete or keyboard-request or " +
        "power-status-changed or startup\n",
      b: "start on session-end and debug and control-alt-delete and keyboard-request and " +
        "power-status-changed and startup and runlevel and filesystem and x/failed\n",
      c: "emits y/*\nstart on y/failed or net-device-up IFACE=lo\n",
    },
    steps: [initctl("check-config"), initctl("check-config", "-w", "c")],
  },
  {
    name: "check-config with nothing to report exits 0",
    jobs: { a: "start on startup\nexec true\n", b: "start on started a\nexec true\n" },
    steps: [initctl("check-config"), initctl("check-config", "b")],
  },
  {
    name: "parse errors name the line Upstart names",
    jobs: {
      ok: "exec true\n",
      block: "description x\nscript\n  echo hi\n\n",
      quote: 'description "oops\nexec true\n\n',
      paren: "start on (a and\n  b\nexec true\n",
      stanza: "exec true\nfrobnicate\n",
      value: "exec true\nkill timeout x\n",
      nice: "nice 40\n",
    },
    steps: [
      parseErrors("block.conf"),
      parseErrors("quote.conf"),
      parseErrors("paren.conf"),
      parseErrors("stanza.conf"),
      parseErrors("value.conf"),
      parseErrors("nice.conf"),
      initctl("list"),
      initctl("status", "block"),
    ],
  },
  {
    name: "reload-configuration picks up new, changed and removed job files",
    jobs: { a: "exec sleep 1000\n", b: "exec true\n" },
    steps: [
      initctl("start", "a"),
      job("c", "start on go\nexec sleep 1000\n"),
      job("b", null),
      initctl("reload-configuration"),
      initctl("list"),
      initctl("emit", "go"),
      initctl("status", "c"),
      initctl("status", "b"),
      job("c", "start on never\nexec sleep 1000\n"),
      initctl("reload-configuration"),
      initctl("show-config", "c"),
      initctl("status", "c"),
      initctl("stop", "c"),
      initctl("stop", "a"),
    ],
  },
  {
    name: "an override file replaces stanzas of its job",
    jobs: {
      a: "start on foo\nexec sleep 1000\n",
      "a.override": "start on bar\n",
      b: "start on foo\nexec true\n",
      "b.override": "manual\n",
      "c.override": "exec true\n",
    },
    steps: [
      initctl("show-config", "a"),
      initctl("show-config", "b"),
      initctl("list"),
      initctl("emit", "foo"),
      initctl("emit", "bar"),
      initctl("list"),
      initctl("stop", "a"),
    ],
  },
  {
    name: "env stanzas: values, start env overrides, env KEY from the daemon",
    daemonEnv: { FROM_DAEMON: "daemon-value" },
    jobs: {
      a: `env A=1
env B="two words"
env FROM_DAEMON
env NOT_IN_DAEMON
script
  echo "A=$A B=$B FROM_DAEMON=$FROM_DAEMON NOT_IN_DAEMON=\${NOT_IN_DAEMON-unset}" >> @TMP@/out
  exec sleep 1000
end script
`,
    },
    steps: [
      initctl("start", "a"),
      // "running" comes when the shell is spawned, not when it has echoed: wait for each line
      // before the next stop, or a busy machine kills the shell first (both inits alike).
      waitFile("out", /\n/),
      initctl("restart", "a", "A=9"),
      waitFile("out", /\n.*\n/),
      initctl("stop", "a"),
      { do: "file", path: "out", match: /\n.*\n/ },
    ],
  },
  {
    name: "a job whose file was removed while it runs stays in show-config and check-config",
    jobs: {
      a: 'start on foo\nstop on bar\nemits x\nusage "a usage"\nexec sleep 1000\n',
      b: "start on started a\nexec sleep 1000\n",
    },
    steps: [
      initctl("emit", "foo"),
      job("a", null),
      initctl("reload-configuration"),
      initctl("show-config", "a"),
      initctl("show-config"),
      initctl("check-config"),
      initctl("usage", "a"),
      initctl("list"),
      initctl("emit", "bar"),
      initctl("list"),
      initctl("show-config"),
      initctl("check-config"),
      initctl("stop", "b"),
    ],
  },
];
