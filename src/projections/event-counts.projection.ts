import type { Projection } from './projection';

/**
 * `event_counts`: how many events of each type each organization produced per day and stream
 * kind (`run`, `workflow`, …). A small analytics read model analysts query with SQL; async,
 * because nobody needs it read-your-writes.
 */
export const eventCountsProjection: Projection = {
  name: 'event_counts',
  mode: 'async',
  handles: 'all',
  tables: ['event_counts'],
  async apply(db, event) {
    await db.query(
      `INSERT INTO event_counts (organization_id, stream_kind, event_type, day, count)
       VALUES ($1, $2, $3, ($4::timestamptz AT TIME ZONE 'UTC')::date, 1)
       ON CONFLICT (organization_id, stream_kind, event_type, day)
       DO UPDATE SET count = event_counts.count + 1`,
      [event.organizationId, streamKind(event.streamId), event.type, event.recordedAt],
    );
  },
};

export function streamKind(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash > 0 ? streamId.slice(0, dash) : streamId;
}
