/** The turn budget of line-mode logs: bounded per turn, shares in the order asked (round-robin). */

import { deepEqual, equal } from "node:assert/strict";
import { TurnBudget } from "../../../lib/log/turn_budget.ts";

/** Let every promise that can settle settle (no timer: microtasks only). */
async function settle(): Promise<void> {
  for (let i = 0; i < 100; i++) await Promise.resolve();
}

/** A budget whose turns the test starts, one by one. */
function manualTurns(perTurn: number, perShare: number) {
  let pending: (() => void) | null = null;
  const budget = new TurnBudget(perTurn, perShare, () => new Promise<void>((r) => pending = r));
  return {
    budget,
    /** Start the next turn if one was asked for; false when none was. */
    async next(): Promise<boolean> {
      const start = pending;
      if (!start) return false;
      pending = null;
      start();
      await settle();
      return true;
    },
  };
}

interface Row {
  readonly name: string;
  readonly perTurn: number;
  readonly perShare: number;
  /** Each log: how many shares it takes, and what it spends of a share of `units`. */
  readonly logs: Record<string, { shares: number; spend: (units: number) => number }>;
  /** The shares given in each turn, `NAMEunits`, in order. */
  readonly turns: string[];
}

const all = (units: number) => units;

const rows: Row[] = [
  {
    name: "one log alone: shares until the turn is spent, then one turn later",
    perTurn: 4,
    perShare: 2,
    logs: { A: { shares: 5, spend: all } },
    turns: ["A2 A2", "A2 A2", "A2"],
  },
  {
    name: "three busy logs take turns, none starved",
    perTurn: 4,
    perShare: 2,
    logs: {
      A: { shares: 3, spend: all },
      B: { shares: 3, spend: all },
      C: { shares: 3, spend: all },
    },
    turns: ["A2 B2", "C2 A2", "B2 C2", "A2 B2", "C2"],
  },
  {
    name: "what a share does not use goes back: more shares in the same turn",
    perTurn: 4,
    perShare: 4,
    logs: { A: { shares: 2, spend: () => 1 }, B: { shares: 2, spend: () => 1 } },
    turns: ["A4 B4 A4 B4"],
  },
  {
    name: "a share is never cut to what is left: a turn ends at most a share past perTurn",
    perTurn: 5,
    perShare: 2,
    logs: { A: { shares: 3, spend: all }, B: { shares: 3, spend: all } },
    turns: ["A2 B2 A2", "B2 A2 B2"],
  },
  {
    name: "an overrun (a long first line) ends the turn; the next one starts afresh",
    perTurn: 4,
    perShare: 4,
    logs: { A: { shares: 2, spend: () => 10 }, B: { shares: 1, spend: all } },
    turns: ["A4", "B4", "A4"],
  },
];

for (const row of rows) {
  Deno.test(`TurnBudget: ${row.name}`, async () => {
    const { budget, next } = manualTurns(row.perTurn, row.perShare);
    const turns: string[][] = [[]];
    const runs = Object.entries(row.logs).map(async ([name, log]) => {
      for (let i = 0; i < log.shares; i++) {
        const share = await budget.take();
        turns[turns.length - 1]!.push(`${name}${share.units}`);
        share.spend(log.spend(share.units));
      }
    });
    await settle();
    while (turns.length < 100) {
      turns.push([]);
      if (!(await next())) break;
    }
    await Promise.all(runs);
    deepEqual(turns.filter((t) => t.length).map((t) => t.join(" ")), row.turns);
    equal(budget.waiting, 0);
  });
}

Deno.test("TurnBudget: a share spent in a later turn costs that turn what it spent", async () => {
  const { budget, next } = manualTurns(10, 10);
  const first = await budget.take(); // all of turn 0
  const waiting = budget.take(); // waits for turn 1
  await next();
  const second = await waiting;
  equal(second.units, 10);
  equal(budget.left, 0);
  first.spend(3); // the work happened now: turn 1 pays it; turn 0's units are gone with it
  equal(budget.left, -3);
  second.spend(2);
  equal(budget.left, 5);
});

Deno.test("TurnBudget: spending a share twice counts once", async () => {
  const { budget } = manualTurns(10, 4);
  const share = await budget.take();
  share.spend(1);
  share.spend(1);
  equal(budget.left, 9);
});
