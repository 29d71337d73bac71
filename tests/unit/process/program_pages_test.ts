/**
 * program_pages: which mappings of the program may be unmapped (read-only, file-backed, no
 * written page), and that unmapping them on a live process takes its resident program pages down
 * while the process goes on running the code it needs.
 */

import { deepEqual, ok } from "node:assert/strict";
import { droppableRanges, preparePageDrop } from "../../../lib/process/program_pages.ts";

const SMAPS = `55d0a0000000-55d0a2000000 r--p 00000000 fd:01 1234 /usr/bin/deno
Rss:                2048 kB
Anonymous:             0 kB
55d0a2000000-55d0a8000000 r-xp 02000000 fd:01 1234 /usr/bin/deno
Rss:                8000 kB
Anonymous:             0 kB
55d0a8000000-55d0a8400000 r--p 08000000 fd:01 1234 /usr/bin/deno
Rss:                4096 kB
Anonymous:          4096 kB
55d0a8400000-55d0a8500000 rw-p 08400000 fd:01 1234 /usr/bin/deno
Anonymous:           512 kB
55d0a8500000-55d0a8600000 r-xp 00000000 fd:01 999 /usr/lib/x86_64-linux-gnu/libc.so.6
Anonymous:             0 kB
55d0a8600000-55d0a8700000 r--p 00000000 00:00 0 
Anonymous:             0 kB
7f0000000000-7f0000100000 r-xp 00000000 fd:01 1234 /usr/bin/deno (deleted)
Anonymous:             0 kB
`;

Deno.test("droppableRanges: the program's read-only mappings with no written page, nothing else", () => {
  deepEqual(droppableRanges(SMAPS, "/usr/bin/deno"), [
    { start: 0x55d0a0000000n, end: 0x55d0a2000000n },
    { start: 0x55d0a2000000n, end: 0x55d0a8000000n },
  ]);
  deepEqual(droppableRanges(SMAPS, "/usr/bin/other"), []);
});

function programRss(): number {
  const program = Deno.realPathSync(Deno.execPath());
  let kb = 0, mine = false;
  for (const line of Deno.readTextFileSync("/proc/self/smaps").split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s+(.*)$/.exec(line);
    if (head) mine = head[1] === program;
    else if (mine && line.startsWith("Rss:")) kb += Number(line.split(/\s+/)[1]);
  }
  return kb;
}

Deno.test("preparePageDrop: the program's resident pages go down when dropped, and it runs on", async () => {
  const drop = preparePageDrop(); // the mappings read now, the pages dropped later
  ok(drop !== null);
  const before = programRss();
  const bytes = drop();
  ok(bytes !== null && bytes > 0, `advised ${bytes} bytes`);
  const after = programRss();
  ok(after < before, `program RSS ${before} kB -> ${after} kB`);
  // Code and read-only data come back as they are used: this process runs on, reads, spawns.
  const out = await new Deno.Command("true").output();
  ok(out.success);
  ok(JSON.stringify(JSON.parse('{"a":[1,2,3]}')) === '{"a":[1,2,3]}');
});
