import type { Queryable } from '../projections/projection';

/**
 * How long a published organization event stays matchable by a `wait_for_event` that begins
 * after it: 24 hours. Waits open at publication get it at once; later waits within the window
 * get the oldest matching event they have not seen yet.
 */
export const ORG_EVENT_RETENTION_MS = 24 * 60 * 60 * 1000;

/** A stored organization event. */
export interface StoredOrgEvent {
  eventId: string;
  name: string;
  correlationKey: string | null;
  payload: unknown;
  publishedAt: Date;
}

/** What a wait listens for. */
export interface EventWaitKey {
  eventName: string;
  correlationKey?: string;
}

/**
 * Stored, unexpired events of the organization that `wait` matches (same name; a wait with a key
 * needs the same key, a wait without one takes any), oldest first.
 */
export async function storedEventsFor(db: Queryable, organizationId: string, wait: EventWaitKey, limit = 20): Promise<StoredOrgEvent[]> {
  const { rows } = await db.query<{ event_id: string; name: string; correlation_key: string | null; payload: unknown; published_at: Date }>(
    `SELECT event_id, name, correlation_key, payload, published_at FROM org_events
     WHERE organization_id = $1 AND name = $2 AND ($3::text IS NULL OR correlation_key = $3)
       AND expires_at > now()
     ORDER BY published_at, event_id LIMIT $4`,
    [organizationId, wait.eventName, wait.correlationKey ?? null, limit],
  );
  return rows.map((row) => ({
    eventId: row.event_id,
    name: row.name,
    correlationKey: row.correlation_key,
    payload: row.payload,
    publishedAt: row.published_at,
  }));
}
