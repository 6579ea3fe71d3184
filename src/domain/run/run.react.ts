import { fitsEventBudget, type RunLimits } from './run.bounds';
import { decide } from './run.decide';
import { executeStep, type ExecuteStep } from './run.actions';
import { endsRun, type RunEvent } from './run.events';
import { RUN_FAILURE_CODES } from './run.errors';
import { evolve } from './run.evolve';
import type { RunState } from './run.state';
import { translate, type RunPorts } from './run.translate';
import type { StepReport } from './step-result';
import { stepResultEvents } from './step-result.events';

/** The rules a run is played by: its bounds. */
export interface RunRules {
  limits: RunLimits;
}

/**
 * One step transition: the events to append in one transaction (with the expected version the
 * state had before them), the state after them, the connector calls to start once they are
 * committed, and when to look again if nothing else happens.
 */
export interface RunTransition {
  state: RunState;
  events: RunEvent[];
  execute: ExecuteStep[];
  wakeAt?: Date;
  /** Nothing more until the run is admitted to its concurrency line (see `RunDecision.admit`). */
  admit?: true;
}

/**
 * Plays the run forward from a folded state: decides, records every decision that needs no
 * connector (skips, wait starts, wait ends, completion, failure, cancellation) and the start of
 * every attempt it owes, until only the outside world — connector results, signals, time — can
 * move it on. Consumes `state`. A run past `maxEventsPerRun` gets `RunFailed(run_too_long)`.
 */
export function react(state: RunState, ports: RunPorts, rules: RunRules): RunTransition {
  const events: RunEvent[] = [];
  const execute: ExecuteStep[] = [];
  const maxRounds = 4 * state.blocks.size + 8;
  for (let round = 0; round < maxRounds; round += 1) {
    const decision = decide(state, ports.now);
    if (decision.actions.length === 0) return { state, events, execute, ...wake(decision.wakeAt), ...(decision.admit ? { admit: decision.admit } : {}) };
    for (const action of decision.actions) {
      if (state.outcome) break;
      const produced = recordable(state, translate(state, action, ports), ports, rules);
      for (const event of produced) {
        events.push(event);
        evolve(state, event);
      }
      if (action.type === 'ExecuteStep' && produced[0]?.type === 'StepAttemptStarted') {
        execute.push(action);
      }
    }
  }
  throw new Error(`react made no progress after ${maxRounds} rounds: a run-domain bug`);
}

/**
 * Records an attempt's result and plays on (see {@link react}): success, a scheduled retry
 * (back-off from the block's policy, spread by `jitter01`), or a terminal failure — and whatever
 * follows, up to `RunCompleted`/`RunFailed` — as one batch. A result for an attempt that is not
 * running (stale, or the run ended) records nothing: a recorded result is never replaced.
 */
export function onStepResult(
  state: RunState,
  report: StepReport,
  ports: RunPorts & { jitter01: number },
  rules: RunRules,
): RunTransition {
  const recorded = recordResult(state, report, ports, rules);
  if (recorded.length === 0) return { state, events: [], execute: [] };
  const next = react(state, ports, rules);
  return { ...next, events: [...recorded, ...next.events] };
}

/**
 * Only the facts of an attempt's result, folded into `state` (consumed), without playing on: what
 * a worker that is shutting down records before it lets the run go, so that nothing new starts
 * there. Nothing for a stale result.
 */
export function recordResult(
  state: RunState,
  report: StepReport,
  ports: RunPorts & { jitter01: number },
  rules: RunRules,
): RunEvent[] {
  const phase = state.blocks.get(report.blockId)?.phase;
  if (state.outcome || phase?.kind !== 'running' || phase.attempt !== report.attempt) return [];
  const facts = stepResultEvents(state, report, phase.startedAtMs, ports, rules.limits);
  const recorded = recordable(state, facts, ports, rules);
  for (const event of recorded) evolve(state, event);
  return recorded;
}

/**
 * What a run owes after a crash, on top of `decide`: the attempts whose `StepAttemptStarted` has
 * no result. They are executed again with the same attempt number and idempotency key
 * (at-least-once); a block with a recorded result is never among them.
 */
export function resume(state: RunState): ExecuteStep[] {
  const run = state.run;
  if (!run || state.outcome) return [];
  const owed: ExecuteStep[] = [];
  for (const blockId of state.index.running) {
    const phase = state.blocks.get(blockId)?.phase;
    const block = state.graph.blocks.get(blockId);
    if (phase?.kind !== 'running' || !block) continue;
    owed.push(executeStep(run.runId, block, phase.attempt));
  }
  return owed;
}

/** `events` when they fit the run's event budget (terminal events always do), else `RunFailed`. */
function recordable(
  state: RunState,
  events: RunEvent[],
  ports: RunPorts,
  rules: RunRules,
): RunEvent[] {
  if (fitsEventBudget(state, events.length, rules.limits) || events.every(endsRun))
    return events;
  const message = `The run has reached its limit of ${rules.limits.maxEventsPerRun} events`;
  const error = { code: RUN_FAILURE_CODES.tooLong, message };
  return [{ type: 'RunFailed', data: { error, at: ports.now.toISOString() } }];
}

function wake(wakeAt: Date | undefined): { wakeAt?: Date } {
  return wakeAt ? { wakeAt } : {};
}
