import type { Pool } from 'pg';
import { receiveSignal } from '../domain/run/run.commands';
import { RunRuleError } from '../domain/run/run.errors';
import { AppError } from '../errors';
import { StreamVersionConflict } from '../event-store/errors';
import type { EventMetadata } from '../event-store/event';
import type { EventStore } from '../event-store/event-store';
import { orgEventStream, type OrgEventDelivered } from './org-event.events';
import type { OrgEvent } from './org-events';
import type { RunStore } from './run-store';

const PARALLEL = 8;

/**
 * Delivers `event` to every run of its organization waiting for it now (same name; the wait's
 * correlation key absent or equal; its deadline not passed), as `SignalReceived` with the event id
 * as signal id — so a run gets it once even if the stored-event lookup of a wait that began
 * meanwhile delivers it too. Then records `OrgEventDelivered` and returns how many runs it reached.
 */
export async function deliverOrgEvent(pool: Pool, store: EventStore, runs: RunStore, event: OrgEvent, metadata: EventMetadata): Promise<number> {
  const { rows } = await pool.query<{ run_id: string }>(
    // A run's open waits are removed when it ends (the run_waits projection), so no run_state join.
    `SELECT DISTINCT w.run_id FROM run_event_waits w
     WHERE w.organization_id = $1 AND w.event_name = $2 AND (w.correlation_key IS NULL OR w.correlation_key = $3)
       AND (w.until IS NULL OR w.until >= now())`,
    [event.organizationId, event.name, event.correlationKey],
  );
  let matched = 0;
  const queue = rows.map((row) => row.run_id);
  const deliverNext = async (): Promise<void> => {
    for (let runId = queue.shift(); runId !== undefined; runId = queue.shift()) {
      if (await deliverTo(runs, runId, event, metadata)) matched += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, deliverNext));
  return recordDelivery(store, event, matched, metadata);
}

/**
 * Appends `OrgEventDelivered` right after the publication (expected version 1). When a sweeper
 * and a slow publisher both delivered, the first record stands and both answer its count.
 */
async function recordDelivery(store: EventStore, event: OrgEvent, matchedRuns: number, metadata: EventMetadata): Promise<number> {
  const streamId = orgEventStream(event.eventId);
  const delivered: OrgEventDelivered = { type: 'OrgEventDelivered', data: { eventId: event.eventId, matchedRuns } };
  try {
    await store.append(streamId, 1, [delivered], { organizationId: event.organizationId, metadata });
    return matchedRuns;
  } catch (error) {
    if (!(error instanceof StreamVersionConflict)) throw error;
    const [recorded] = await store.readStream(streamId, { fromVersion: 2, limit: 1 });
    if (recorded?.type !== 'OrgEventDelivered') throw error;
    return (recorded.data as OrgEventDelivered['data']).matchedRuns;
  }
}

async function deliverTo(runs: RunStore, runId: string, event: OrgEvent, metadata: EventMetadata): Promise<boolean> {
  try {
    await runs.command(runId, event.organizationId, metadata, (state) =>
      receiveSignal(
        state,
        {
          signalId: event.eventId,
          name: event.name,
          payload: event.payload,
          ...(event.correlationKey !== null ? { correlationKey: event.correlationKey } : {}),
          scope: 'organization',
          now: new Date(),
        },
        runs.decider.limits,
      ),
    );
    return true;
  } catch (error) {
    // The run ended, is full or vanished meanwhile: the event does not reach it.
    if (error instanceof RunRuleError || error instanceof AppError) return false;
    throw error;
  }
}
