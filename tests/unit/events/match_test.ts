/**
 * Event matching (lib/events/match.ts) against Upstart's event_operator.c rules: operand matching
 * tables, expression state across several events, resets, held and satisfying events, and the
 * environment a satisfied expression yields. Trees are built by hand with a tiny helper.
 */

import assert from "node:assert/strict";
import type { EventArg, EventExpr } from "../../../lib/events/expr.ts";
import {
  eventEnvironment,
  heldEvents,
  initialMatch,
  isSatisfied,
  type MatchEvent,
  type MatchNode,
  offerEvent,
  operandMatches,
  resetMatch,
  satisfyingEvents,
} from "../../../lib/events/match.ts";

// ---------------------------------------------------------------- helpers

/** An operand from words: `KEY!=V` and `KEY=V` are named, anything else positional. */
function on(name: string, ...words: string[]): EventExpr {
  const args: EventArg[] = words.map((w) => {
    const neg = w.indexOf("!=");
    if (neg > 0) {
      return { kind: "named", key: w.slice(0, neg), value: w.slice(neg + 2), negated: true };
    }
    const eq = w.indexOf("=");
    if (eq > 0) {
      return { kind: "named", key: w.slice(0, eq), value: w.slice(eq + 1), negated: false };
    }
    return { kind: "positional", value: w };
  });
  return { type: "event", name, args };
}
const and = (left: EventExpr, right: EventExpr): EventExpr => ({ type: "and", left, right });
const or = (left: EventExpr, right: EventExpr): EventExpr => ({ type: "or", left, right });

let nextId = 1;
/** An emitted event from `KEY=VALUE` words. */
function ev(name: string, ...pairs: string[]): MatchEvent {
  const env = pairs.map((p) => {
    const i = p.indexOf("=");
    return [p.slice(0, i), p.slice(i + 1)] as const;
  });
  return { id: nextId++, name, env };
}

/** Offer events in turn; like the supervisor, count a "fire" and reset when satisfied. */
function drive(
  expr: EventExpr,
  events: MatchEvent[],
  vars?: Record<string, string>,
): { fired: MatchEvent[][]; node: MatchNode } {
  let node = initialMatch(expr);
  const fired: MatchEvent[][] = [];
  for (const e of events) {
    node = offerEvent(node, e, vars).node;
    if (isSatisfied(node)) {
      fired.push(satisfyingEvents(node));
      node = resetMatch(node);
    }
  }
  return { fired, node };
}

const ids = (events: readonly MatchEvent[]) => events.map((e) => e.id);

// ---------------------------------------------------------------- operands

type Row = readonly [
  why: string,
  operand: EventExpr,
  event: MatchEvent,
  want: boolean,
  vars?: Record<string, string>,
];

const RL = (level: string, prev = "N") => ev("runlevel", `RUNLEVEL=${level}`, `PREVLEVEL=${prev}`);

const OPERANDS: readonly Row[] = [
  ["bare name matches any env", on("runlevel"), RL("2"), true],
  ["names compare exactly", on("runlevel"), ev("runlevel2"), false],
  ["no glob on the event name", on("run*"), RL("2"), false],
  ["names are case-sensitive", on("Startup"), ev("startup"), false],
  ["runlevel [2345] in range", on("runlevel", "[2345]"), RL("2"), true],
  ["runlevel [2345] out of range", on("runlevel", "[2345]"), RL("0"), false],
  ["runlevel [2345] is one character", on("runlevel", "[2345]"), RL("23"), false],
  ["runlevel [!2345] for 6", on("runlevel", "[!2345]"), RL("6"), true],
  ["runlevel [!2345] for S", on("runlevel", "[!2345]"), RL("S"), true],
  ["runlevel [!2345] for 3", on("runlevel", "[!2345]"), RL("3"), false],
  ["second positional is the second entry", on("runlevel", "*", "N"), RL("2", "N"), true],
  ["second positional mismatch", on("runlevel", "*", "5"), RL("2", "N"), false],
  ["positional ignores the key", on("stopped", "rc"), ev("stopped", "JOB=rc", "INSTANCE="), true],
  ["positional is not a key lookup", on("stopped", "rc"), ev("stopped", "X=y", "JOB=rc"), false],
  ["more positionals than entries", on("runlevel", "2", "N", "x"), RL("2"), false],
  ["positional '*' needs an entry", on("foo", "*"), ev("foo"), false],
  [
    "empty value matches empty pattern",
    on("stopped", "rc", ""),
    ev("stopped", "JOB=rc", "INSTANCE="),
    true,
  ],
  ["KEY=PATTERN by key", on("stopped", "JOB=rc"), ev("stopped", "JOB=rc", "INSTANCE="), true],
  ["KEY=PATTERN glob", on("stopped", "JOB=r?"), ev("stopped", "JOB=rc"), true],
  ["KEY=PATTERN missing key", on("stopped", "RESULT=ok"), ev("stopped", "JOB=rc"), false],
  ["KEY=PATTERN takes the first entry of a key", on("x", "A=1"), ev("x", "A=1", "A=2"), true],
  ["…and only the first", on("x", "A=2"), ev("x", "A=1", "A=2"), false],
  [
    "positional then named",
    on("stopped", "rc", "RUNLEVEL=[2345]"),
    ev("stopped", "JOB=rc", "INSTANCE=", "RUNLEVEL=2"),
    true,
  ],
  [
    "positional then named, named fails",
    on("stopped", "rc", "RUNLEVEL=[2345]"),
    ev("stopped", "JOB=rc", "INSTANCE=", "RUNLEVEL=S"),
    false,
  ],
  [
    "IFACE!=lo with eth0",
    on("net-device-up", "IFACE!=lo"),
    ev("net-device-up", "IFACE=eth0"),
    true,
  ],
  ["IFACE!=lo with lo", on("net-device-up", "IFACE!=lo"), ev("net-device-up", "IFACE=lo"), false],
  [
    "KEY!= with the key missing is no match",
    on("net-device-up", "IFACE!=lo"),
    ev("net-device-up"),
    false,
  ],
  ["KEY!= glob", on("net-device-up", "IFACE!=l*"), ev("net-device-up", "IFACE=lo0"), false],
  [
    "CONTAINER=lxc is not lxc-libvirt",
    on("container", "CONTAINER=lxc"),
    ev("container", "CONTAINER=lxc-libvirt"),
    false,
  ],
  [
    "CONTAINER=lxc-libvirt",
    on("container", "CONTAINER=lxc-libvirt"),
    ev("container", "CONTAINER=lxc-libvirt"),
    true,
  ],
  ["class in a named pattern", on("foo", "N=[[:digit:]]*"), ev("foo", "N=42"), true],
  [
    "range in a named pattern",
    on("net-device-up", "IFACE=eth[0-9]"),
    ev("net-device-up", "IFACE=eth1"),
    true,
  ],
  ["negated class", on("foo", "N=[![:digit:]]"), ev("foo", "N=7"), false],
  // Expansion: start on passes no variables.
  ["start on: $VAR cannot expand", on("runlevel", "[!$RUNLEVEL]"), RL("3"), false],
  ["start on: ${VAR:-word} gives word", on("foo", "A=${X:-bar}"), ev("foo", "A=bar"), true],
  ["start on: $$ is literal", on("foo", "A=$$"), ev("foo", "A=$$"), true],
  ["start on: ${} is a dollar", on("foo", "A=${}x"), ev("foo", "A=$x"), true],
  // stop on passes the instance env.
  ["stop on: [!$RUNLEVEL] other level", on("runlevel", "[!$RUNLEVEL]"), RL("3"), true, {
    RUNLEVEL: "2",
  }],
  ["stop on: [!$RUNLEVEL] same level", on("runlevel", "[!$RUNLEVEL]"), RL("2"), false, {
    RUNLEVEL: "2",
  }],
  ["stop on: DEV=$DEV", on("device-removed", "DEV=$DEV"), ev("device-removed", "DEV=sdb"), true, {
    DEV: "sdb",
  }],
  [
    "stop on: DEV=$DEV other",
    on("device-removed", "DEV=$DEV"),
    ev("device-removed", "DEV=sdc"),
    false,
    { DEV: "sdb" },
  ],
  ["stop on: unknown var is no match", on("foo", "A=$NOPE"), ev("foo", "A="), false, { DEV: "x" }],
  ["stop on: expanded value is a pattern", on("foo", "A=$P"), ev("foo", "A=abc"), true, {
    P: "a*",
  }],
  [
    "stop on: expansion error in != is no match",
    on("foo", "A!=$NOPE"),
    ev("foo", "A=x"),
    false,
    {},
  ],
];

Deno.test("operandMatches() follows event_operator_match for every row", () => {
  for (const [why, operand, event, want, vars] of OPERANDS) {
    assert.equal(operand.type, "event");
    if (operand.type !== "event") continue;
    assert.equal(operandMatches(operand, event, vars), want, why);
    // offerEvent agrees on a lone operand.
    const r = offerEvent(initialMatch(operand), event, vars);
    assert.equal(r.matched, want, `offerEvent: ${why}`);
    assert.equal(isSatisfied(r.node), want, `isSatisfied: ${why}`);
  }
});

Deno.test("operandMatches() keeps Upstart's single env cursor after a named argument", () => {
  // Only a hand-built tree can put a positional after a named argument (the parser refuses):
  // Upstart moves its cursor to the entry the name found, so the positional meets the next one.
  const operand: EventExpr = {
    type: "event",
    name: "foo",
    args: [
      { kind: "named", key: "B", value: "2", negated: false },
      { kind: "positional", value: "x" },
    ],
  };
  if (operand.type !== "event") throw new Error("unreachable");
  assert.equal(operandMatches(operand, ev("foo", "A=1", "B=2", "C=x")), true);
  assert.equal(operandMatches(operand, ev("foo", "A=x", "B=2", "C=1")), false);
  assert.equal(operandMatches(operand, ev("foo", "A=1", "B=2")), false);
});

// ---------------------------------------------------------------- expressions

Deno.test("'starting foo or stopped bar' is satisfied by either event", () => {
  const expr = or(on("starting", "foo"), on("stopped", "bar"));
  const a = ev("starting", "JOB=foo", "INSTANCE=");
  const b = ev("stopped", "JOB=bar", "INSTANCE=", "RESULT=ok");
  assert.deepEqual(ids(drive(expr, [a]).fired[0]!), [a.id]);
  assert.deepEqual(ids(drive(expr, [b]).fired[0]!), [b.id]);
  assert.equal(drive(expr, [ev("starting", "JOB=bar")]).fired.length, 0);
});

Deno.test("an 'or' does not stop evaluating once true: the other side still matches and holds", () => {
  const expr = or(on("a"), on("b"));
  const a = ev("a");
  const b = ev("b");
  let node = offerEvent(initialMatch(expr), a).node;
  assert.ok(isSatisfied(node));
  const r = offerEvent(node, b);
  assert.equal(r.matched, true);
  node = r.node;
  assert.deepEqual(ids(satisfyingEvents(node)), [a.id, b.id]);
  assert.deepEqual(ids(heldEvents(node)), [a.id, b.id]);
});

Deno.test("a matched operand keeps its first event and is not matched again before a reset", () => {
  const expr = and(on("a"), on("b"));
  const a1 = ev("a");
  const a2 = ev("a");
  const b = ev("b");
  const n1 = offerEvent(initialMatch(expr), a1).node;
  const r2 = offerEvent(n1, a2);
  assert.equal(r2.matched, false);
  assert.equal(r2.node, n1, "nothing changed: the same node comes back");
  const n3 = offerEvent(r2.node, b).node;
  assert.ok(isSatisfied(n3));
  assert.deepEqual(ids(satisfyingEvents(n3)), [a1.id, b.id]);
});

Deno.test("'a and b': events a, a, b start once", () => {
  const a1 = ev("a");
  const { fired, node } = drive(and(on("a"), on("b")), [a1, ev("a"), ev("b")]);
  assert.equal(fired.length, 1);
  assert.equal(fired[0]![0], a1);
  assert.deepEqual(heldEvents(node), []);
});

Deno.test("'a and b': events a, b, b start once; the last b waits, held, for another a", () => {
  const b3 = ev("b");
  const expr = and(on("a"), on("b"));
  const { fired, node } = drive(expr, [ev("a"), ev("b"), b3]);
  assert.equal(fired.length, 1);
  assert.equal(isSatisfied(node), false);
  assert.deepEqual(heldEvents(node), [b3]);
  const a4 = ev("a");
  const again = offerEvent(node, a4).node;
  assert.ok(isSatisfied(again));
  assert.deepEqual(satisfyingEvents(again), [a4, b3]);
});

Deno.test("a half-true 'and' is not reset when another branch fires; only the whole reset clears it", () => {
  // ((a and b) or c): a then c fires through c alone; a was held but did not contribute.
  const expr = or(and(on("a"), on("b")), on("c"));
  const a = ev("a");
  const c = ev("c");
  let node = offerEvent(initialMatch(expr), a).node;
  assert.equal(isSatisfied(node), false);
  node = offerEvent(node, c).node;
  assert.ok(isSatisfied(node));
  assert.deepEqual(satisfyingEvents(node), [c]);
  assert.deepEqual(heldEvents(node), [a, c]);
  assert.deepEqual(eventEnvironment(node).names, ["c"]);
  const reset = resetMatch(node);
  assert.deepEqual(heldEvents(reset), []);
  assert.deepEqual(reset, initialMatch(expr));
});

Deno.test("corpus: 'stopped rc RUNLEVEL=[2345] and (not-container or container …lxc or …lxc-libvirt)'", () => {
  const expr = and(
    on("stopped", "rc", "RUNLEVEL=[2345]"),
    or(
      or(on("not-container"), on("container", "CONTAINER=lxc")),
      on("container", "CONTAINER=lxc-libvirt"),
    ),
  );
  const libvirt = ev("container", "CONTAINER=lxc-libvirt");
  const rcS = ev("stopped", "JOB=rc", "INSTANCE=", "RUNLEVEL=S");
  const rc2 = ev("stopped", "JOB=rc", "INSTANCE=", "RUNLEVEL=2", "RESULT=ok");
  let node = initialMatch(expr);
  let r = offerEvent(node, libvirt);
  assert.equal(r.matched, true, "the lxc-libvirt operand takes it (not the CONTAINER=lxc one)");
  node = r.node;
  r = offerEvent(node, rcS);
  assert.equal(r.matched, false, "RUNLEVEL=S is not [2345]");
  node = r.node;
  assert.equal(isSatisfied(node), false);
  node = offerEvent(node, rc2).node;
  assert.ok(isSatisfied(node));
  assert.deepEqual(satisfyingEvents(node), [rc2, libvirt]);
  assert.deepEqual(eventEnvironment(node), {
    env: [
      ["JOB", "rc"],
      ["INSTANCE", ""],
      ["RUNLEVEL", "2"],
      ["RESULT", "ok"],
      ["CONTAINER", "lxc-libvirt"],
    ],
    names: ["stopped", "container"],
  });
});

Deno.test("corpus: '(local-filesystems and net-device-up IFACE!=lo)' waits for a non-lo interface", () => {
  const expr = and(on("local-filesystems"), on("net-device-up", "IFACE!=lo"));
  const lo = ev("net-device-up", "IFACE=lo", "LOGICAL=lo", "ADDRFAM=inet", "METHOD=loopback");
  const fs = ev("local-filesystems");
  const eth0 = ev("net-device-up", "IFACE=eth0", "LOGICAL=eth0", "ADDRFAM=inet", "METHOD=dhcp");
  const { fired } = drive(expr, [lo, fs, eth0]);
  assert.equal(fired.length, 1);
  assert.deepEqual(fired[0], [fs, eth0]);
});

Deno.test("corpus: 'stop on runlevel [!$RUNLEVEL]' uses the instance's RUNLEVEL", () => {
  const expr = on("runlevel", "[!$RUNLEVEL]");
  const vars = { RUNLEVEL: "2", PREVLEVEL: "N" };
  const same = RL("2", "S");
  const halt = RL("0", "2");
  const { fired } = drive(expr, [same, halt], vars);
  assert.deepEqual(fired, [[halt]]);
  assert.equal(drive(expr, [halt]).fired.length, 0, "without vars the pattern never matches");
});

Deno.test("corpus: 'runlevel [2345]' and 'runlevel [!2345]' split every runlevel", () => {
  for (const level of ["0", "1", "2", "3", "4", "5", "6", "S"]) {
    const e = RL(level);
    const up = drive(on("runlevel", "[2345]"), [e]).fired.length;
    const down = drive(on("runlevel", "[!2345]"), [e]).fired.length;
    assert.equal(up + down, 1, level);
  }
});

Deno.test("corpus: nested '(((started xbmc and enable-avahi-daemon) or no-xbmc) and started dbus)'", () => {
  const expr = and(
    or(and(on("started", "xbmc"), on("enable-avahi-daemon")), on("no-xbmc")),
    on("started", "dbus"),
  );
  const dbus = ev("started", "JOB=dbus", "INSTANCE=");
  const xbmc = ev("started", "JOB=xbmc", "INSTANCE=");
  const avahi = ev("enable-avahi-daemon");
  assert.equal(drive(expr, [dbus, xbmc]).fired.length, 0);
  const { fired } = drive(expr, [dbus, xbmc, avahi]);
  assert.deepEqual(fired, [[xbmc, avahi, dbus]]);
  assert.deepEqual(drive(expr, [ev("no-xbmc"), dbus]).fired.length, 1);
});

Deno.test("one event matching two operands is taken by both, reported matched once", () => {
  const expr = and(on("foo", "A=1"), on("foo"));
  const e = ev("foo", "A=1");
  const r = offerEvent(initialMatch(expr), e);
  assert.equal(r.matched, true);
  assert.ok(isSatisfied(r.node));
  assert.deepEqual(satisfyingEvents(r.node), [e], "deduplicated");
  assert.deepEqual(heldEvents(r.node), [e], "deduplicated");
  // Upstart's event_operator_environment names it once per true operand.
  assert.deepEqual(eventEnvironment(r.node), { env: [["A", "1"]], names: ["foo", "foo"] });
});

// ---------------------------------------------------------------- values and environment

Deno.test("offerEvent() never changes its input and shares untouched subtrees", () => {
  const expr = and(or(on("a"), on("b")), on("c"));
  const start = initialMatch(expr);
  const before = JSON.stringify(start);
  const r = offerEvent(start, ev("c"));
  assert.equal(JSON.stringify(start), before);
  assert.notEqual(r.node, start);
  if (r.node.type === "event" || start.type === "event") throw new Error("unreachable");
  assert.equal(r.node.left, start.left, "the (a or b) subtree is shared");
  const none = offerEvent(start, ev("zzz"));
  assert.equal(none.node, start);
  assert.equal(none.matched, false);
});

Deno.test("resetMatch() returns an unmatched tree and leaves an unmatched one as is", () => {
  const expr = and(on("a"), on("b"));
  const fresh = initialMatch(expr);
  assert.equal(resetMatch(fresh), fresh);
  const half = offerEvent(fresh, ev("a")).node;
  const reset = resetMatch(half);
  assert.deepEqual(reset, fresh);
  assert.deepEqual(heldEvents(reset), []);
  assert.equal(heldEvents(half).length, 1, "the old value still holds its event");
});

Deno.test("eventEnvironment(): later events replace earlier keys in place, names in expression order", () => {
  const expr = and(on("a"), on("b"));
  const b = ev("b", "X=3", "Z=4");
  const a = ev("a", "X=1", "Y=2");
  let node = offerEvent(initialMatch(expr), b).node;
  node = offerEvent(node, a).node;
  assert.deepEqual(eventEnvironment(node), {
    env: [["X", "3"], ["Y", "2"], ["Z", "4"]],
    names: ["a", "b"],
  });
  assert.deepEqual(satisfyingEvents(node), [a, b], "expression order, not arrival order");
});

Deno.test("an unsatisfied expression has no satisfying events and no environment", () => {
  const node = offerEvent(initialMatch(and(on("a"), on("b"))), ev("a", "K=v")).node;
  assert.deepEqual(satisfyingEvents(node), []);
  assert.deepEqual(eventEnvironment(node), { env: [], names: [] });
  assert.equal(heldEvents(node).length, 1);
});
