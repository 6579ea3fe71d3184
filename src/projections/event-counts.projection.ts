import type { RecordedEvent } from '../event-store/event';
import type { Projection, Queryable } from '../event-store/projection';
import { recordsOf } from '../database/json-records';

/** $1: the batch's counts as one JSON text (`recordsOf`). */
const UPSERT = `
INSERT INTO event_counts (organization_id, stream_kind, event_type, day, count)
SELECT * FROM json_to_recordset($1::json) AS c(organization_id text, stream_kind text, event_type text, day date, count bigint)
ON CONFLICT (organization_id, stream_kind, event_type, day)
DO UPDATE SET count = event_counts.count + EXCLUDED.count`;

/**
 * `event_counts`: how many events of each type each organization produced per day and stream
 * kind (`run`, `workflow`, …). A small analytics read model analysts query with SQL; async,
 * because nobody needs it read-your-writes. Every event counts, so it folds a batch into one
 * upsert rather than one statement per event.
 */
export const eventCountsProjection: Projection = {
  name: 'event_counts',
  mode: 'async',
  handles: 'all',
  tables: ['event_counts'],
  apply: (db, event) => upsertCounts(db, [event]),
  applyBatch: upsertCounts,
};

async function upsertCounts(db: Queryable, events: readonly RecordedEvent[]): Promise<void> {
  const counts = new Map<string, { organizationId: string; streamKind: string; eventType: string; day: string; count: number }>();
  for (const event of events) {
    const row = { organizationId: event.organizationId, streamKind: streamKind(event.streamId), eventType: event.type, day: utcDay(event.recordedAt), count: 0 };
    const id = JSON.stringify([row.organizationId, row.streamKind, row.eventType, row.day]);
    const entry = counts.get(id) ?? row;
    entry.count++;
    counts.set(id, entry);
  }
  await db.query(UPSERT, [recordsOf([...counts.values()], ['organizationId', 'streamKind', 'eventType', 'day', 'count'])]);
}

export function streamKind(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash > 0 ? streamId.slice(0, dash) : streamId;
}

function utcDay(at: Date): string {
  return new Date(at).toISOString().slice(0, 10);
}
