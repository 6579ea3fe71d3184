import type { RunError } from './run.events';
import { outputsOf } from './run.decide';
import type { RunState, RunStatus } from './run.state';

/** What a parked run waits for, as the API's `waitingFor`. */
export interface WaitingFor {
  kind: 'wait_duration' | 'wait_for_event' | 'human_approval' | 'retry';
  blockId: string;
  until?: string;
  eventName?: string;
  correlationKey?: string;
  approvalToken?: string;
}

/** The run fields of `GET /api/runs/:id` that come from the fold. */
export interface RunView {
  status: RunStatus;
  outputs: Record<string, unknown>;
  error: RunError | null;
  waitingFor: WaitingFor | null;
  startedAt: string | null;
  endedAt: string | null;
}

/** The API view of a folded run. */
export function runView(state: RunState): RunView {
  return {
    status: state.status,
    outputs: outputsOf(state),
    error: state.error ?? null,
    waitingFor: waitingFor(state),
    startedAt: state.run?.startedAt ?? null,
    endedAt: state.endedAt ?? null,
  };
}

/**
 * What a `waiting` or `sleeping` run waits for: the first-begun event or approval wait when the
 * status is `waiting`, else the first sleep or retry back-off; `null` for any other status.
 */
export function waitingFor(state: RunState): WaitingFor | null {
  if (state.status !== 'waiting' && state.status !== 'sleeping') return null;
  let sleep: WaitingFor | null = null;
  for (const blockId of state.index.waiting) {
    const phase = state.blocks.get(blockId)?.phase;
    if (phase?.kind !== 'waiting') continue;
    const wait = phase.wait;
    const until = wait.until !== undefined ? { until: wait.until } : {};
    if (wait.type === 'wait_duration') sleep ??= { kind: wait.type, blockId, ...until };
    else if (state.status === 'waiting' && wait.type === 'wait_for_event') {
      const key = wait.correlationKey !== undefined ? { correlationKey: wait.correlationKey } : {};
      return { kind: wait.type, blockId, ...until, eventName: wait.eventName, ...key };
    } else if (state.status === 'waiting' && wait.type === 'human_approval') {
      return { kind: wait.type, blockId, ...until, approvalToken: wait.token };
    }
  }
  if (sleep) return sleep;
  for (const blockId of state.index.backoff) {
    const phase = state.blocks.get(blockId)?.phase;
    if (phase?.kind === 'backoff') return { kind: 'retry', blockId, until: phase.availableAt };
  }
  return null;
}
