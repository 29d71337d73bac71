/**
 * The event queue: events wait to be handled in order, are offered to every job's `stop on` and
 * `start on`, and finish when nothing blocks them any more (Upstart's event.c). A finished event
 * tells its emitter (a job in `starting`/`stopping`, or `initctl emit`), and a failed one is
 * followed by `EVENT/failed`. No I/O: the supervisor drives it.
 */

import {
  heldEvents,
  type MatchEvent,
  type MatchNode,
  offerEvent,
  resetMatch,
} from "../events/match.ts";

export interface QueuedEvent extends MatchEvent {
  /** How many jobs and expressions hold it; it finishes when this is 0 after it was handled. */
  blockers: number;
  failed: boolean;
  handled: boolean;
  done: boolean;
  readonly onFinished: ((failed: boolean) => void) | null;
}

export class EventQueue {
  #nextId = 1;
  #pending: QueuedEvent[] = [];
  /** Events not yet finished, by id (handled ones stay while something holds them). */
  readonly live = new Map<number, QueuedEvent>();

  /** Queue an event; `onFinished` is called once it has finished (with whether it failed). */
  push(
    name: string,
    env: readonly (readonly [string, string])[],
    onFinished: ((failed: boolean) => void) | null = null,
  ): QueuedEvent {
    const event: QueuedEvent = {
      id: this.#nextId++,
      name,
      env,
      blockers: 0,
      failed: false,
      handled: false,
      done: false,
      onFinished,
    };
    this.#pending.push(event);
    this.live.set(event.id, event);
    return event;
  }

  /** The next event to handle, if any. */
  shift(): QueuedEvent | undefined {
    return this.#pending.shift();
  }

  get size(): number {
    return this.#pending.length;
  }

  /** Offer an event to a matcher; the event is held (blocked) when an operand takes it. */
  offer(
    node: MatchNode,
    event: QueuedEvent,
    vars: Readonly<Record<string, string>> | undefined,
  ): MatchNode {
    const result = offerEvent(node, event, vars);
    if (result.matched) block(event);
    return result.node;
  }

  /** Reset a matcher after it fired, releasing the events it held. */
  reset(node: MatchNode): MatchNode {
    this.release(node);
    return resetMatch(node);
  }

  /** Release every event an expression holds. */
  release(node: MatchNode | null): void {
    if (!node) return;
    for (const held of heldEvents(node)) {
      const ev = this.live.get(held.id);
      if (ev && unblock(ev)) this.finish(ev);
    }
  }

  /** Hold a live event on behalf of a job (released by the job's `finished`). */
  hold(id: number): QueuedEvent | null {
    const ev = this.live.get(id);
    if (!ev) return null;
    block(ev);
    return ev;
  }

  /** The event is done: tell its emitter, and follow a failed one with `EVENT/failed`. */
  finish(event: QueuedEvent): void {
    if (event.done) return;
    event.done = true;
    this.live.delete(event.id);
    if (event.failed && !event.name.endsWith("/failed")) {
      this.push(`${event.name}/failed`, event.env);
    }
    event.onFinished?.(event.failed);
  }
}

/** Hold an event (a job or an expression now depends on it). */
export function block(event: QueuedEvent): void {
  event.blockers += 1;
}

/**
 * Release an event; returns true when this release finished it (then the caller runs
 * `finishEvent`).
 */
export function unblock(event: QueuedEvent): boolean {
  if (event.blockers > 0) event.blockers -= 1;
  return event.handled && !event.done && event.blockers === 0;
}
