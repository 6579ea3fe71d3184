import { runLimitsOf, type RunLimits } from './run.bounds';
import type { ExecuteStep, RunDecision } from './run.actions';
import { decide } from './run.decide';
import type { RunEvent } from './run.events';
import { evolve } from './run.evolve';
import { onStepResult, react, recordResult, resume, type RunRules, type RunTransition } from './run.react';
import { initialRunState, type RunState } from './run.state';
import type { RunPorts } from './run.translate';
import type { StepReport } from './step-result';

/**
 * A run as a decider `{decide, evolve, initialState, isTerminal}` and a process
 * `{evolve, react, resume}`, bound to its bounds. The worker's loop:
 *
 * 1. load the stream and `fold` it (or keep the state it folded while it holds the lease);
 * 2. after a (re)claim, execute `resume(state)` — attempts started but never recorded;
 * 3. `react(state, ports)` → append `events` at the expected version in one transaction, then
 *    start the `execute` calls;
 * 4. for each result, `onStepResult(state, report, ports)` → append, start the new calls;
 * 5. with nothing running, park the run until `wakeAt` (or a signal/cancel wakes it); on wake,
 *    fold the new events with `evolve` and go to 3.
 *
 * States are consumed by `evolve`/`fold`/`react`/`onStepResult` (see `RunState`); after a failed
 * append, drop the state and fold again from the store.
 */
export interface RunDecider {
  initialState(): RunState;
  evolve(state: RunState, event: RunEvent): RunState;
  fold(events: Iterable<RunEvent>, state?: RunState): RunState;
  decide(state: RunState, now: Date): RunDecision;
  isTerminal(state: RunState): boolean;
  react(state: RunState, ports: RunPorts): RunTransition;
  onStepResult(
    state: RunState,
    report: StepReport,
    ports: RunPorts & { jitter01: number },
  ): RunTransition;
  /** The result's facts alone, without playing on (a worker draining for shutdown). */
  recordResult(state: RunState, report: StepReport, ports: RunPorts & { jitter01: number }): RunEvent[];
  resume(state: RunState): ExecuteStep[];
  readonly limits: RunLimits;
}

/** Builds the run decider with optional bound overrides. */
export function createRunDecider(limits: Partial<RunLimits> = {}): RunDecider {
  const rules: RunRules = { limits: runLimitsOf(limits) };
  return {
    initialState: initialRunState,
    evolve,
    fold(events, state = initialRunState()) {
      let folded = state;
      for (const event of events) folded = evolve(folded, event);
      return folded;
    },
    decide,
    isTerminal: (state) => state.outcome !== undefined,
    react: (state, ports) => react(state, ports, rules),
    onStepResult: (state, report, ports) => onStepResult(state, report, ports, rules),
    recordResult: (state, report, ports) => recordResult(state, report, ports, rules),
    resume,
    limits: rules.limits,
  };
}
