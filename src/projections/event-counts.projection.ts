import type { RecordedEvent } from '../event-store/event';
import type { Projection, Queryable } from '../event-store/projection';

const UPSERT = `
INSERT INTO event_counts (organization_id, stream_kind, event_type, day, count)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::bigint[])
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
  const counts = new Map<string, { key: [string, string, string, string]; count: number }>();
  for (const event of events) {
    const key: [string, string, string, string] = [event.organizationId, streamKind(event.streamId), event.type, utcDay(event.recordedAt)];
    const id = JSON.stringify(key);
    const entry = counts.get(id) ?? { key, count: 0 };
    entry.count++;
    counts.set(id, entry);
  }
  const rows = [...counts.values()];
  await db.query(UPSERT, [0, 1, 2, 3].map((i) => rows.map((r) => r.key[i])).concat([rows.map((r) => r.count)] as never));
}

export function streamKind(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash > 0 ? streamId.slice(0, dash) : streamId;
}

function utcDay(at: Date): string {
  return new Date(at).toISOString().slice(0, 10);
}
