/** GroupRssSampler with a fake /proc: one scan shared within its max age, fresh VmRSS per member. */

import { equal } from "node:assert/strict";
import { GroupRssSampler } from "../../../lib/health/memory.ts";
import type { ProcStat } from "../../../lib/process/proc.ts";

function stat(pid: number, pgrp: number, state = "S"): ProcStat {
  return { pid, ppid: 1, pgrp, session: pgrp, state, comm: "x", rssPages: 0, startTime: 0 };
}

function fakeProc() {
  const world = {
    time: 0,
    scans: 0,
    procs: [stat(10, 10), stat(11, 10), stat(12, 10, "Z"), stat(20, 20)],
    rssKb: new Map<number, number>([[10, 1000], [11, 24], [12, 5000], [20, 7]]),
    groupOf: new Map<number, number>(),
  };
  const sampler = new GroupRssSampler(
    1000,
    () => world.time,
    () => {
      world.scans++;
      return world.procs;
    },
    (pid) => {
      const kb = world.rssKb.get(pid);
      if (kb === undefined) return null;
      const pg = world.groupOf.get(pid) ?? world.procs.find((p) => p.pid === pid)?.pgrp;
      return `Name:\tx\nNSpgid:\t${pg}\nVmRSS:\t ${kb} kB\n`;
    },
  );
  return { world, sampler };
}

Deno.test("GroupRssSampler sums the VmRSS of a group's live members, zombies left out", () => {
  const { sampler } = fakeProc();
  equal(sampler.groupRss(10), 1024 * 1024);
  equal(sampler.groupRss(20), 7 * 1024);
  equal(sampler.groupRss(99), 0);
});

Deno.test("GroupRssSampler scans /proc once per max age, however many groups it measures", () => {
  const { world, sampler } = fakeProc();
  for (let i = 0; i < 50; i++) sampler.groupRss(i % 2 ? 10 : 20);
  equal(world.scans, 1);
  world.time = 999;
  sampler.groupRss(10);
  equal(world.scans, 1);
  world.time = 1000;
  sampler.groupRss(10);
  equal(world.scans, 2);
});

Deno.test("GroupRssSampler reads memory fresh and skips members gone or moved since the scan", () => {
  const { world, sampler } = fakeProc();
  equal(sampler.groupRss(10), 1024 * 1024);
  world.rssKb.set(10, 2000); // grew: seen without a new scan
  equal(sampler.groupRss(10), (2000 + 24) * 1024);
  world.rssKb.delete(11); // exited
  equal(sampler.groupRss(10), 2000 * 1024);
  world.groupOf.set(10, 30); // pid now in another group (left it, or reused)
  equal(sampler.groupRss(10), 0);
  equal(world.scans, 1);
});
