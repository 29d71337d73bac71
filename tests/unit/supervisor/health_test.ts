/**
 * HealthSupervision (lib/supervisor/health.ts) on a real Supervisor with fake process and timer
 * ports and scripted check results: when checks start and stop, what status shows, the
 * `unhealthy` event, the restart of a job with `respawn`, and a job without it checked on.
 */

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { parseJob } from "../../../lib/job/parse.ts";
import type { JobClass } from "../../../lib/job/model.ts";
import type { CheckResult } from "../../../lib/health/check.ts";
import type { ExitStatus } from "../../../lib/supervisor/instance.ts";
import { HealthSupervision } from "../../../lib/supervisor/health.ts";
import {
  type Instance,
  type ProcessPort,
  type SpawnRequest,
  Supervisor,
  type TimerPort,
} from "../../../lib/supervisor/supervisor.ts";

class FakeProcesses implements ProcessPort {
  nextPid = 1000;
  readonly running = new Map<number, SpawnRequest>();
  readonly killed: [number, string][] = [];
  spawn(req: SpawnRequest): number {
    const pid = this.nextPid++;
    this.running.set(pid, req);
    return pid;
  }
  kill(pid: number, signal: string): void {
    this.killed.push([pid, signal]);
    const req = this.running.get(pid);
    if (!req) return;
    this.running.delete(pid);
    const status: ExitStatus = { code: null, signal };
    queueMicrotask(() => req.onExit(pid, status, null));
  }
  signal(): void {}
  adopt(): boolean {
    return false;
  }
  killGroup(_pgid: number, _signal: string, onGone: () => void): void {
    queueMicrotask(onGone);
  }
}

/** One fake clock serving both the supervisor's TimerPort and the monitor's Timers. */
class FakeClock implements TimerPort {
  t = 0;
  #next = 1;
  readonly pending = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  set(ms: number, fn: () => void): number {
    const id = this.#next++;
    this.pending.set(id, { at: this.t + ms, fn });
    return id;
  }
  clear(id: number): void {
    this.pending.delete(id);
  }
  readonly monitorTimers = {
    setTimeout: (fn: () => void, ms: number) => this.set(ms, fn),
    clearTimeout: (id: number) => this.clear(id),
    now: () => this.t,
  };
  /** Advance by `ms`, firing due timers and letting the async checks they start finish. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.pending].filter(([, p]) =>
        p.at <= end
      ).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.t = Math.max(this.t, due[1].at);
      this.pending.delete(due[0]);
      due[1].fn();
      await new Promise((r) => setTimeout(r, 0));
    }
    this.t = end;
  }
}

function world(text: string) {
  const processes = new FakeProcesses();
  const clock = new FakeClock();
  const log: string[] = [];
  const sup = new Supervisor({
    processes,
    timers: clock,
    log: (m) => log.push(m),
    logDir: "/logs",
    jobEnv: { PATH: "/bin" },
    processEnv: {},
  });
  const r = parseJob(text, { name: "web", file: "web.conf" });
  if (!r.job) throw new Error(JSON.stringify(r.diagnostics));
  sup.setJobs(new Map<string, JobClass>([["web", r.job]]));
  const events: string[] = [];
  const origEmit = sup.emit.bind(sup);
  sup.emit = (name, env, onFinished = null) => {
    events.push(`${name} ${env.map(([k, v]) => `${k}=${v}`).join(" ")}`);
    origEmit(name, env, onFinished);
  };
  /** What the next checks return, in order; the last one repeats. */
  const script: CheckResult[] = [{ ok: true, detail: "HTTP 200" }];
  let checks = 0;
  const health = new HealthSupervision(sup, (m) => log.push(m), {
    pgidOf: (pid) => pid,
    ownerOf: () => null,
    timers: clock.monitorTimers,
    checkers: {
      runCheck: () => {
        checks++;
        return Promise.resolve(script.length > 1 ? script.shift()! : script[0]!);
      },
      checkMemory: () => ({ ok: true, detail: "memory 1 MiB <= 1 GiB" }),
    },
  });
  sup.onInstanceChange = (inst) => health.update(inst);
  const inst = (): Instance | undefined => sup.classes.get("web")?.instances.get("");
  const start = () =>
    sup.call(() => sup.startInstance(sup.classes.get("web")!, "", { PATH: "/bin" }, null));
  return {
    sup,
    processes,
    clock,
    log,
    events,
    script,
    health,
    inst,
    start,
    checks: () => checks,
  };
}

const JOB = `health http http://127.0.0.1:1/
health interval 1
health retries 2
exec web
`;

Deno.test("HealthSupervision checks a running instance and shows the last result", async () => {
  const w = world(JOB);
  w.start();
  const first = w.inst()!;
  assertEquals(first.st.state, "running");
  assertEquals(w.health.view(first), null);
  await w.clock.advance(1000);
  assertEquals(w.checks(), 1);
  assertEquals(w.health.view(first), { healthy: true, failures: 0, detail: "HTTP 200", at: 1000 });
});

Deno.test("HealthSupervision counts a failure below retries as healthy, then declares it once", async () => {
  const w = world(JOB);
  w.script.splice(0, 1, { ok: false, detail: "HTTP 503" });
  w.start();
  const inst = w.inst()!;
  await w.clock.advance(1000);
  assertEquals(w.health.view(inst)?.healthy, true);
  assertEquals(w.health.view(inst)?.failures, 1);
  await w.clock.advance(1000);
  assertEquals(w.health.view(inst), {
    healthy: false,
    failures: 2,
    detail: "HTTP 503",
    at: 2000,
  });
  assertEquals(w.events.filter((e) => e.startsWith("unhealthy")), [
    "unhealthy JOB=web INSTANCE= REASON=2 failures: HTTP 503",
  ]);
  // No respawn: left running, checked on, failures counted on, no second event.
  await w.clock.advance(3000);
  assertEquals(inst.st.state, "running");
  assertEquals(w.processes.killed, []);
  assertEquals(w.health.view(inst)?.failures, 5);
  assertEquals(w.events.filter((e) => e.startsWith("unhealthy")).length, 1);
  assert(w.log.includes("web is unhealthy: 2 failures: HTTP 503"));
  // Recovery is shown and logged.
  w.script.splice(0, w.script.length, { ok: true, detail: "HTTP 200" });
  await w.clock.advance(1000);
  assertEquals(w.health.view(inst)?.healthy, true);
  assert(w.log.includes("web is healthy again: HTTP 200"));
});

Deno.test("HealthSupervision restarts an unhealthy job with respawn, skipping pre-stop", async () => {
  const w = world(`respawn\npre-stop exec drain\n${JOB}`);
  w.script.splice(0, 1, { ok: false, detail: "timed out after 3s" });
  w.start();
  const inst = w.inst()!;
  const pid = inst.st.pids.main!;
  await w.clock.advance(2000);
  assertEquals(w.processes.killed, [[pid, "TERM"]]);
  assert(w.log.includes("web restarting (unhealthy)"));
  assert(w.log.includes("web goal changed from start to respawn"));
  assert(!w.log.some((l) => /pre-stop process/.test(l)), "pre-stop skipped");
  const again = w.inst()!;
  assertEquals(again.st.state, "running");
  assert(again.st.pids.main !== pid, "a new main process");
  // Checked afresh from the new start: the old verdict is gone.
  assertEquals(w.health.view(again), null);
  w.script.splice(0, w.script.length, { ok: true, detail: "HTTP 200" });
  await w.clock.advance(1000);
  assertEquals(w.health.view(again)?.healthy, true);
});

Deno.test("HealthSupervision stops checking when the instance stops", async () => {
  const w = world(JOB);
  w.start();
  await w.clock.advance(1000);
  assertEquals(w.checks(), 1);
  w.sup.call(() => w.sup.stopInstance(w.inst()!, null, null));
  await w.clock.advance(0);
  assertEquals(w.inst(), undefined);
  await w.clock.advance(5000);
  assertEquals(w.checks(), 1);
});
