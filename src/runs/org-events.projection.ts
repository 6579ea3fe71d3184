import { assertNever } from '../domain/assert-never';
import type { Projection, Queryable } from '../event-store/projection';
import { ORG_EVENT_TYPES, type OrgEventFact } from './org-event.events';

/**
 * `org_events`: published organization events a `wait_for_event` may still take, with their
 * delivery. Inline, so a wait that begins right after a publication commits finds it, and so an
 * idempotent replay reads the first answer (read-your-writes).
 *
 * Every column comes from the events: `published_at` is the publication's `recorded_at`,
 * `expires_at` that plus its `retentionMs`, `matched_runs`/`started_runs`/`refused_starts`/`delivered_at`
 * the delivery's data and `recorded_at`. Values are copied from the `events` row inside Postgres (exact timestamps, no
 * payload sent back over the wire).
 */
export const orgEventsProjection: Projection = {
  name: 'org_events',
  mode: 'inline',
  handles: ORG_EVENT_TYPES,
  tables: ['org_events'],
  async apply(db, recorded) {
    const type = recorded.type as OrgEventFact['type'];
    switch (type) {
      case 'OrgEventPublished':
        await pruneExpired(db, recorded.organizationId, recorded.globalPosition);
        await db.query(
          `INSERT INTO org_events (event_id, organization_id, name, correlation_key, payload, idempotency_key, request_hash,
                                   matched_runs, published_at, delivered_at, expires_at)
           SELECT data->>'eventId', organization_id, data->>'name', data->>'correlationKey', data->'payload', data->>'idempotencyKey',
                  data->>'requestHash', 0, recorded_at, NULL, recorded_at + (data->>'retentionMs')::bigint * interval '1 millisecond'
           FROM events WHERE global_position = $1`,
          [recorded.globalPosition],
        );
        return;
      case 'OrgEventDelivered':
        // A no-op when the row was pruned already (a delivery later than the retention).
        await db.query(
          `UPDATE org_events o SET matched_runs = (e.data->>'matchedRuns')::int, delivered_at = e.recorded_at,
             started_runs = coalesce(e.data->'startedRuns', '[]'), refused_starts = coalesce(e.data->'refusedStarts', '[]')
           FROM events e WHERE e.global_position = $1 AND o.event_id = e.data->>'eventId'`,
          [recorded.globalPosition],
        );
        return;
      default:
        return assertNever(type);
    }
  },
};

/**
 * Retention without a clock: each publication deletes its organization's rows that expired by
 * its own `recorded_at`, so live and rebuilt tables drop the same rows at the same event. (An
 * organization that stops publishing keeps its last window of rows, expired; readers filter on
 * `expires_at`, so they are never matched.) SKIP LOCKED: concurrent publishers of one
 * organization never wait on each other here; a row another publisher holds goes with that
 * one's commit (or, if it rolls back, with the organization's next publication).
 */
async function pruneExpired(db: Queryable, organizationId: string, globalPosition: number): Promise<void> {
  await db.query(
    `DELETE FROM org_events WHERE event_id IN (
       SELECT event_id FROM org_events
       WHERE organization_id = $1 AND expires_at <= (SELECT recorded_at FROM events WHERE global_position = $2)
       FOR UPDATE SKIP LOCKED)`,
    [organizationId, globalPosition],
  );
}
