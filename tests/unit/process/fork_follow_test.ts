/** Unit tests of fork following (ForkFollower) against a scripted fake of the ptrace calls. */

import assert from "node:assert/strict";
import { ForkFollower } from "../../../lib/process/fork_follow.ts";
import { PTRACE_EVENT, type TraceSys, type WaitResult } from "../../../lib/process/ptrace.ts";

const SIGSTOP = 19;

/** A fake TraceSys: `stops` queues what waitpid reports per pid; calls are recorded. */
function fake() {
  const queue = new Map<number, WaitResult[]>();
  const calls: string[] = [];
  const children = new Map<number, number>();
  const sys: TraceSys = {
    seize: (pid) => (calls.push(`seize ${pid}`), null),
    cont: (pid, sig) => void calls.push(`cont ${pid} ${sig}`),
    detach: (pid, sig) => void calls.push(`detach ${pid} ${sig}`),
    forkedPid: (pid) => children.get(pid) ?? 0,
    wait: (pid) => queue.get(pid)?.shift() ?? null,
    kill: (pid, sig) => (calls.push(`kill ${pid} ${sig}`), true),
  };
  const stop = (pid: number, signal: number, event = 0) => {
    const q = queue.get(pid) ?? [];
    q.push({ kind: "stopped", signal, event });
    queue.set(pid, q);
  };
  const fork = (parent: number, child: number) => {
    children.set(parent, child);
    stop(parent, 5, PTRACE_EVENT.fork);
  };
  return { sys, calls, stop, fork };
}

function follower(forks: number) {
  const f = fake();
  const follower = new ForkFollower(f.sys);
  const seen: [number, boolean][] = [];
  follower.follow(100, forks, {
    forked: (pid, final) => void seen.push([pid, final]),
    untraced: () => {},
    exited: () => {},
  });
  f.stop(100, SIGSTOP); // the wrapper stops itself
  follower.poll();
  f.stop(100, 5, PTRACE_EVENT.exec); // the wrapper execs the job's program
  follower.poll();
  return { ...f, follower, seen };
}

Deno.test("ForkFollower: expect daemon follows two forks; an exec before any fork does not count", () => {
  const t = follower(2);
  t.fork(100, 101);
  t.follower.poll();
  assert.deepEqual(t.seen, [[101, false]]);
  t.stop(101, SIGSTOP); // the fresh child's first stop
  t.follower.poll();
  t.fork(101, 102);
  t.follower.poll();
  assert.deepEqual(t.seen, [[101, false], [102, true]]);
  assert.ok(t.calls.includes("detach 100 0") && t.calls.includes("detach 101 0"));
});

Deno.test("ForkFollower: a child that execs before its second fork is the daemon (as Upstart)", () => {
  const t = follower(2);
  t.fork(100, 101);
  t.follower.poll();
  t.stop(101, SIGSTOP);
  t.follower.poll();
  t.stop(101, 5, PTRACE_EVENT.exec);
  t.follower.poll();
  assert.deepEqual(t.seen, [[101, false], [101, true]]);
  assert.equal(t.calls.at(-1), "detach 101 0");
  assert.equal(t.follower.size, 0);
});
