/** initctl's words, streams and exit codes. */

import { initctl, type Scenario } from "../scenario.ts";

export const INITCTL: Scenario[] = [
  {
    name: "initctl errors and odd arguments",
    jobs: { a: "exec sleep 1000\n", d: "start on foo\nexec sleep 1000\n" },
    steps: [
      initctl("show-config", "a", "d"),
      initctl("check-config"),
      initctl("check-config", "nosuch"),
      initctl("--no-wait", "start", "a"),
      initctl("status"),
      initctl("set-env"),
      initctl("emit", "foo", "=1"),
      initctl("status", "a", "K=unknown"),
      initctl("set-env", "EMPTY="),
      initctl("get-env", "EMPTY"),
      initctl("unset-env", "NOPE"),
      initctl("get-env", "NOPE"),
      initctl("status", "nosuch"),
      initctl("log-priority"),
      initctl("log-priority", "bogus"),
      initctl("usage", "a"),
      initctl("bogus"),
      initctl(),
    ],
  },
];
