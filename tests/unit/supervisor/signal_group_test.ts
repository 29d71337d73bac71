/**
 * signalProcessAndGroup: a stop signal reaches the main process and its group once each process,
 * as Upstart's kill(-pgid) does; never the group and then the process again.
 */

import { deepEqual, equal } from "node:assert/strict";
import { signalProcessAndGroup } from "../../../lib/supervisor/process_port.ts";

function world(groups: (number | null)[], ownGroup = 50) {
  const sent: string[] = [];
  let look = 0;
  const deps = {
    ownGroup,
    // Each look returns the next group in `groups` (the last one from then on).
    groupOf: () => groups[Math.min(look++, groups.length - 1)]!,
    killGroup: (pgid: number, signal: string) => void sent.push(`group ${pgid} ${signal}`),
    killOne: (pid: number, signal: string) => void sent.push(`pid ${pid} ${signal}`),
  };
  return { sent, deps };
}

const cases: {
  name: string;
  groups: (number | null)[];
  sent: string[];
  group: number | null;
}[] = [
  { name: "a group leader", groups: [100], sent: ["group 100 TERM"], group: 100 },
  {
    // A forked daemon in its parent's group (expect fork): the group signal reaches it.
    name: "a member of another process's group",
    groups: [90],
    sent: ["group 90 TERM"],
    group: 90,
  },
  {
    name: "one that left its group between the look and the kill",
    groups: [90, 100],
    sent: ["group 90 TERM", "pid 100 TERM"],
    group: 90,
  },
  { name: "one in the daemon's own group", groups: [50], sent: ["pid 100 TERM"], group: null },
  { name: "one in group 1", groups: [1], sent: ["pid 100 TERM"], group: null },
  { name: "one already gone", groups: [null], sent: ["group 100 TERM"], group: 100 },
];

for (const c of cases) {
  Deno.test(`signalProcessAndGroup: ${c.name}`, () => {
    const w = world(c.groups);
    equal(signalProcessAndGroup(100, "TERM", w.deps), c.group);
    deepEqual(w.sent, c.sent);
  });
}
