import type { ActiveWait, ReceivedSignal, RunState } from './run.state';

/** A `wait_for_event` wait. */
export type EventWait = ActiveWait & { type: 'wait_for_event' };

/**
 * Whether `signal` may end `wait`: same name; a signal sent to the run ignores correlation keys
 * (API contract); a published event needs the wait's key to be absent or equal to its own; and it
 * must have arrived by the wait's deadline (a later one stays pending for a later wait).
 */
export function signalMatches(wait: EventWait, signal: ReceivedSignal): boolean {
  if (signal.name !== wait.eventName) return false;
  if (wait.untilMs !== undefined && signal.receivedAtMs > wait.untilMs) return false;
  if (signal.scope === 'run' || wait.correlationKey === undefined) return true;
  return wait.correlationKey === signal.correlationKey;
}

/**
 * The oldest pending signal `wait` may consume, taken out of the pending list — so a signal that
 * arrived before the wait began is delivered to it, and each signal ends at most one wait.
 */
export function takePendingSignal(state: RunState, wait: EventWait): ReceivedSignal | undefined {
  for (const signal of state.signals.values()) {
    if (!signalMatches(wait, signal)) continue;
    state.signals.delete(signal.signalId);
    return signal;
  }
  return undefined;
}

/** The block id of the earliest-begun unclaimed wait that `signal` may end, if any. */
export function findWaiter(state: RunState, signal: ReceivedSignal): string | undefined {
  for (const blockId of state.index.waiting) {
    const phase = state.blocks.get(blockId)?.phase;
    if (phase?.kind !== 'waiting' || phase.wait.type !== 'wait_for_event') continue;
    if (!phase.wait.signal && signalMatches(phase.wait, signal)) return blockId;
  }
  return undefined;
}
