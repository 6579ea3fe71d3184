import type { RunLimits } from '../domain/run/run.bounds';
import { receiveSignal } from '../domain/run/run.commands';
import type { RunEvent, RunWaitingForEvent } from '../domain/run/run.events';
import type { RunState } from '../domain/run/run.state';
import type { Queryable } from '../event-store/projection';
import { storedEventsFor } from '../runs/org-events';

/** A signal to record in the run's next batch: the events, decided against the state then. */
export type SignalRequest = (state: RunState, now: Date) => RunEvent[];

/**
 * For waits that just began (and their append committed): the organization events published
 * earlier that they match, one per wait, as signals to record next. Looking only after the commit
 * closes the race with a publisher: either the publisher sees the committed wait, or this lookup
 * sees the committed event (or both; the event id doubles as the signal id, so it lands once).
 */
export async function signalsFromStoredEvents(
  host: { pool: Queryable; limits: RunLimits },
  state: RunState,
  waits: RunWaitingForEvent[],
): Promise<SignalRequest[]> {
  const organizationId = state.run?.organizationId;
  if (!organizationId) return [];
  const taken = new Set<string>();
  const requests: SignalRequest[] = [];
  for (const wait of waits) {
    if (!isOpen(state, wait.data.blockId)) continue;
    const key = wait.data.correlationKey;
    const stored = await storedEventsFor(host.pool, organizationId, { eventName: wait.data.eventName, ...(key !== undefined ? { correlationKey: key } : {}) });
    const event = stored.find((e) => !state.seenSignalIds.has(e.eventId) && !taken.has(e.eventId));
    if (!event) continue;
    taken.add(event.eventId);
    requests.push((current, now) => {
      try {
        return receiveSignal(
          current,
          {
            signalId: event.eventId,
            name: event.name,
            payload: event.payload,
            ...(event.correlationKey !== null ? { correlationKey: event.correlationKey } : {}),
            scope: 'organization',
            now,
          },
          host.limits,
        );
      } catch {
        return []; // the run ended or is full: the event simply does not reach it
      }
    });
  }
  return requests;
}

function isOpen(state: RunState, blockId: string): boolean {
  const phase = state.blocks.get(blockId)?.phase;
  return phase?.kind === 'waiting' && phase.wait.type === 'wait_for_event' && !phase.wait.signal;
}
