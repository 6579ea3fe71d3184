import type {
  ApprovalDecided,
  ApprovalRequested,
  RunSleeping,
  RunWaitingForEvent,
  SignalReceived,
  WaitCompleted,
} from './run.events';
import { setPhase, succeed } from './run-flow';
import type { ActiveWait, ReceivedSignal, RunState } from './run.state';
import { findWaiter, takePendingSignal, type EventWait } from './signal-matching';

/** `RunSleeping`: a ready `wait_duration` block starts its timer. */
export function onSleeping(state: RunState, data: RunSleeping['data']): void {
  const wait: ActiveWait = {
    type: 'wait_duration',
    until: data.until,
    untilMs: Date.parse(data.until),
  };
  begin(state, data.blockId, wait);
}

/** `RunWaitingForEvent`: the wait begins and at once claims a matching signal already received. */
export function onWaitingForEvent(state: RunState, data: RunWaitingForEvent['data']): void {
  const wait: EventWait = {
    type: 'wait_for_event',
    eventName: data.eventName,
    ...(data.correlationKey !== undefined ? { correlationKey: data.correlationKey } : {}),
    ...deadline(data.until),
  };
  if (!isReady(state, data.blockId)) return;
  const signal = takePendingSignal(state, wait);
  begin(state, data.blockId, signal ? { ...wait, signal } : wait);
}

/** `ApprovalRequested`: the approval wait begins; its token opens. */
export function onApprovalRequested(state: RunState, data: ApprovalRequested['data']): void {
  if (!isReady(state, data.blockId)) return;
  const wait: ActiveWait = {
    type: 'human_approval',
    token: data.token,
    prompt: data.prompt,
    ...deadline(data.until),
  };
  begin(state, data.blockId, wait);
  state.approvals.set(data.token, { blockId: data.blockId, status: 'pending' });
}

/** `SignalReceived`: claimed by the earliest matching open wait, else kept (once per id). */
export function onSignalReceived(state: RunState, data: SignalReceived['data']): void {
  if (state.seenSignalIds.has(data.signalId)) return;
  state.seenSignalIds.add(data.signalId);
  const signal: ReceivedSignal = {
    signalId: data.signalId,
    name: data.name,
    payload: data.payload,
    ...(data.correlationKey !== undefined ? { correlationKey: data.correlationKey } : {}),
    scope: data.scope,
    receivedAtMs: Date.parse(data.receivedAt),
  };
  const waiter = findWaiter(state, signal);
  const phase = waiter === undefined ? undefined : state.blocks.get(waiter)?.phase;
  if (waiter === undefined || phase?.kind !== 'waiting') {
    state.signals.set(signal.signalId, signal);
    return;
  }
  setPhase(state, waiter, { kind: 'waiting', wait: { ...phase.wait, signal } as EventWait });
}

/** `ApprovalDecided`: kept on the open approval if in time; a spent token changes nothing. */
export function onApprovalDecided(state: RunState, data: ApprovalDecided['data']): void {
  const entry = state.approvals.get(data.token);
  const phase = state.blocks.get(data.blockId)?.phase;
  if (entry?.status !== 'pending' || entry.blockId !== data.blockId) return;
  if (phase?.kind !== 'waiting' || phase.wait.type !== 'human_approval') return;
  if (phase.wait.untilMs !== undefined && Date.parse(data.at) > phase.wait.untilMs) return;
  const verdict = { approved: data.approved, by: data.by, note: data.note };
  setPhase(state, data.blockId, { kind: 'waiting', wait: { ...phase.wait, verdict } });
  state.approvals.set(data.token, { ...entry, status: 'decided' });
}

/** `WaitCompleted`: the wait block succeeds with its output; an unanswered approval expires. */
export function onWaitCompleted(state: RunState, data: WaitCompleted['data']): void {
  const phase = state.blocks.get(data.blockId)?.phase;
  if (phase?.kind !== 'waiting') return;
  if (phase.wait.type === 'human_approval') {
    const entry = state.approvals.get(phase.wait.token);
    if (entry?.status === 'pending') {
      state.approvals.set(phase.wait.token, { ...entry, status: 'timed_out' });
    }
  }
  succeed(state, data.blockId, data.output);
}

function begin(state: RunState, blockId: string, wait: ActiveWait): void {
  if (isReady(state, blockId)) setPhase(state, blockId, { kind: 'waiting', wait });
}

function isReady(state: RunState, blockId: string): boolean {
  return state.blocks.get(blockId)?.phase.kind === 'ready';
}

function deadline(until: string | undefined): { until?: string; untilMs?: number } {
  return until === undefined ? {} : { until, untilMs: Date.parse(until) };
}
