/** How the shell gets a job's script: one line on the command line, more lines from fd 9. */

import { file, initctl, mainCmd, type Scenario } from "../scenario.ts";

export const SHELL: Scenario[] = [
  {
    name:
      "scripts: one line with -c, several lines from /proc/self/fd/9 ($0, command lines, errors)",
    jobs: {
      one: "script\n  sleep 1000\n\nend script\n",
      many: "script\n  sleep 1000\n  true\nend script\n",
      err: "task\nscript\n  echo one\n  nosuchcmd-xyz\n  echo after\nend script\n",
      zero: 'task\nscript\n  echo "$0"\nend script\n',
      blank: 'task\nscript\n\n  echo "$0"\n\nend script\n',
      user: `setuid nobody
task
script
  echo "$0 $(id -un)" > @TMP@/user
  echo second line >> @TMP@/user
end script
`,
      nice:
        'nice 5\ntask\nscript\n  echo "$0" > @TMP@/nice\n  echo two >> @TMP@/nice\nend script\n',
      pre: `pre-start script
  echo "pre $0" >> @TMP@/hooks
  true
end script
post-stop exec echo "post-stop $0" >> @TMP@/hooks
`,
    },
    steps: [
      initctl("start", "one"),
      mainCmd("one"),
      initctl("start", "many"),
      mainCmd("many"),
      initctl("start", "err"),
      { do: "log", name: "err.log", match: /not found/ },
      initctl("start", "zero"),
      { do: "log", name: "zero.log", match: /sh/ },
      initctl("start", "blank"),
      { do: "log", name: "blank.log", match: /fd/ },
      initctl("start", "user"),
      file("user"),
      initctl("start", "nice"),
      file("nice"),
      initctl("start", "pre"),
      initctl("stop", "pre"),
      file("hooks"),
      initctl("stop", "one"),
      initctl("stop", "many"),
    ],
  },
  {
    name: "scripts of several lines with expect fork/daemon, also through the set-up helper",
    jobs: {
      f: 'expect fork\nscript\n  echo "$0" > @TMP@/f\n  sleep 1000 &\nend script\n',
      d: 'expect daemon\nscript\n  echo "$0" > @TMP@/d\n  (sleep 999 &)\n  exit 0\nend script\n',
      u: 'expect fork\nsetuid nobody\nscript\n  echo "$0 $USER" > @TMP@/u\n  sleep 998 &\nend script\n',
    },
    steps: [
      initctl("start", "f"),
      mainCmd("f"),
      file("f"),
      initctl("start", "d"),
      mainCmd("d"),
      file("d"),
      initctl("start", "u"),
      mainCmd("u"),
      file("u"),
      initctl("list"),
      initctl("stop", "f"),
      initctl("stop", "d"),
      initctl("stop", "u"),
    ],
  },
];
