/**
 * The goal × state table of a job instance as data (Upstart's job_next_state): which state follows
 * each state for each goal. Read by the state machine (instance.ts) and tested cell by cell. Pure.
 */

export type Goal = "start" | "stop" | "respawn";
export type State =
  | "waiting"
  | "starting"
  | "pre-start"
  | "spawned"
  | "post-start"
  | "running"
  | "pre-stop"
  | "stopping"
  | "killed"
  | "post-stop";

/** One cell of the goal × state table. */
export interface Transition {
  readonly state: State;
  /** The goal after the move (a respawn goes on with goal start). */
  readonly goal?: Goal;
  /** The state instead when the main process is not alive (running + stop: skip pre-stop). */
  readonly ifMainDead?: State;
}

const to = (state: State, goal?: Goal): Transition => goal ? { state, goal } : { state };

/**
 * Upstart's job_next_state as data: the state that follows each state for each goal. `null` cells
 * never happen (Upstart asserts); the machine then stays where it is.
 */
export const TRANSITIONS: Readonly<Record<State, Readonly<Record<Goal, Transition | null>>>> = {
  "waiting": { start: to("starting"), stop: null, respawn: null },
  "starting": { start: to("pre-start"), stop: to("stopping"), respawn: null },
  "pre-start": { start: to("spawned"), stop: to("stopping"), respawn: null },
  "spawned": { start: to("post-start"), stop: to("stopping"), respawn: to("stopping", "start") },
  "post-start": {
    start: to("running"),
    stop: to("stopping"),
    respawn: to("stopping", "start"),
  },
  "running": {
    start: to("stopping"),
    stop: { state: "pre-stop", ifMainDead: "stopping" },
    respawn: to("stopping", "start"),
  },
  "pre-stop": { start: to("running"), stop: to("stopping"), respawn: to("stopping", "start") },
  "stopping": { start: to("killed"), stop: to("killed"), respawn: null },
  "killed": { start: to("post-stop"), stop: to("post-stop"), respawn: null },
  "post-stop": { start: to("starting"), stop: to("waiting"), respawn: null },
};

/** The state that follows `state` for `goal` (Upstart's job_next_state), read from TRANSITIONS. */
export function nextState(
  state: State,
  goal: Goal,
  mainAlive: boolean,
): { state: State; goal: Goal } {
  const cell = TRANSITIONS[state][goal];
  if (!cell) return { state, goal };
  return {
    state: !mainAlive && cell.ifMainDead ? cell.ifMainDead : cell.state,
    goal: cell.goal ?? goal,
  };
}
