import { assertNever } from '../assert-never';
import type { RunEvent, RunStarted } from './run.events';
import { deriveStatus, holdOutput, setPhase, settle } from './run-flow';
import { buildRunGraph } from './run-graph';
import type { RunState } from './run.state';
import {
  onApprovalDecided,
  onApprovalRequested,
  onSignalReceived,
  onSleeping,
  onWaitCompleted,
  onWaitingForEvent,
} from './run-waits.evolve';
import {
  onAttemptFailed,
  onAttemptStarted,
  onAttemptSucceeded,
  onRetryScheduled,
  onReused,
  onSkipped,
} from './run-steps.evolve';

/** Events the API appends; every other event is the worker's, and ends the `queued` status. */
const API_EVENTS: ReadonlySet<RunEvent['type']> = new Set([
  'RunStarted',
  'SignalReceived',
  'ApprovalDecided',
  'RunCancelRequested',
]);

/**
 * Folds one event into the run state, in O(1 + edges out of the block it concerns). Consumes
 * `state` (see {@link RunState}). Total: a fact that no longer applies — a result for a block that
 * already settled, anything after the run ended — changes nothing but the version, so a recorded
 * result can never be overwritten and replays of the same stream always give the same state.
 * It reads nothing but the state and the event: what a block's connector is was pinned in
 * `RunStarted`.
 */
export function evolve(state: RunState, event: RunEvent): RunState {
  state.version += 1;
  if (state.outcome) return state;
  if (!state.run && event.type !== 'RunStarted') return state;
  apply(state, event);
  if (!API_EVENTS.has(event.type)) state.begun = true;
  state.status = deriveStatus(state);
  return state;
}

function apply(state: RunState, event: RunEvent): void {
  switch (event.type) {
    case 'RunStarted':
      return onStarted(state, event.data);
    case 'RunAdmitted':
      state.admitted = true;
      return;
    case 'StepAttemptStarted':
      return onAttemptStarted(state, event.data);
    case 'StepAttemptSucceeded':
      return onAttemptSucceeded(state, event.data);
    case 'StepAttemptFailed':
      return onAttemptFailed(state, event.data);
    case 'StepRetryScheduled':
      return onRetryScheduled(state, event.data);
    case 'StepSkipped':
      return onSkipped(state, event.data);
    case 'StepReused':
      return onReused(state, event.data);
    case 'RunSleeping':
      return onSleeping(state, event.data);
    case 'RunWaitingForEvent':
      return onWaitingForEvent(state, event.data);
    case 'ApprovalRequested':
      return onApprovalRequested(state, event.data);
    case 'SignalReceived':
      return onSignalReceived(state, event.data);
    case 'WaitCompleted':
      return onWaitCompleted(state, event.data);
    case 'ApprovalDecided':
      return onApprovalDecided(state, event.data);
    case 'RunCancelRequested':
      state.cancelRequested ??= { ...pick(event.data, 'reason'), ...pick(event.data, 'by') };
      return;
    case 'RunCancelled':
      return end(state, 'cancelled', event.data.at);
    case 'RunCompleted':
      return end(state, 'completed', event.data.at);
    case 'RunFailed':
      state.error = event.data.error;
      return end(state, 'failed', event.data.at);
    default:
      return assertNever(event);
  }
}

function onStarted(state: RunState, data: RunStarted['data']): void {
  if (state.run) return;
  const { workflow, blocks: pins, rerun, ...identity } = data;
  const timeoutMs = workflow.metadata?.timeoutMs;
  const startAtMs = data.startAt === undefined ? undefined : Date.parse(data.startAt);
  const deadlineMs = timeoutMs === undefined ? undefined : Math.max(Date.parse(data.startedAt), startAtMs ?? 0) + timeoutMs;
  state.run = {
    ...identity,
    variables: workflow.variables ?? {},
    ...(rerun ? { rerunOf: rerun.of } : {}),
    ...(startAtMs !== undefined ? { startAtMs } : {}),
    ...(deadlineMs !== undefined ? { deadlineMs } : {}),
  };
  if (rerun) state.reuse = new Map(Object.entries(rerun.reuse));
  state.graph = buildRunGraph(workflow, pins);
  const triggers: string[] = [];
  for (const block of state.graph.blocks.values()) {
    const root = block.inCount === 0;
    state.blocks.set(block.id, {
      phase: { kind: 'pending' },
      unresolved: block.inCount,
      taken: root,
    });
    state.open += 1;
    if (block.role === 'trigger') triggers.push(block.id);
    else if (root) setPhase(state, block.id, { kind: 'ready' });
  }
  // A trigger is done when the run starts: its output is the run input.
  for (const id of triggers) {
    holdOutput(state, id, data.input);
    settle(
      state,
      id,
      { kind: 'succeeded', output: data.input },
      { kind: 'succeeded', output: data.input },
    );
  }
}

/**
 * The run's end. One clock for the run's times: the start was stamped by the process that
 * started it, the end by the worker; a worker whose clock is behind never makes a run end
 * before it started.
 */
function end(state: RunState, outcome: NonNullable<RunState['outcome']>, at: string): void {
  const startedAt = state.run?.startedAt;
  state.outcome = outcome;
  state.endedAt = startedAt !== undefined && Date.parse(at) < Date.parse(startedAt) ? startedAt : at;
}

function pick<T extends object, K extends keyof T>(data: T, key: K): Partial<Pick<T, K>> {
  return data[key] === undefined ? {} : ({ [key]: data[key] } as Pick<T, K>);
}
