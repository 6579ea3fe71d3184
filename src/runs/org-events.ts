import type { Queryable } from '../event-store/projection';
import type { Delivery } from './deliver-org-event';

/**
 * How long a published organization event stays matchable by a `wait_for_event` that begins
 * after it: 24 hours. Waits open at publication get it at once; later waits within the window
 * get the oldest matching event they have not seen yet. Recorded in each publication, so a
 * change here never rewrites the expiry of events already published.
 */
export const ORG_EVENT_RETENTION_MS = 24 * 60 * 60 * 1000;

/** A published organization event, as delivered to runs. */
export interface OrgEvent {
  eventId: string;
  organizationId: string;
  name: string;
  correlationKey: string | null;
  payload: unknown;
}

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

// Reads of `org_events`, the read model `orgEventsProjection` alone writes.

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

/** What the publication's delivery did so far (nothing until it is recorded, or once it is pruned). */
export async function deliveryOf(db: Queryable, eventId: string): Promise<Delivery> {
  const { rows } = await db.query<{ matched_runs: number; started_runs: Delivery['startedRuns']; refused_starts: Delivery['refusedStarts'] }>(
    'SELECT matched_runs, started_runs, refused_starts FROM org_events WHERE event_id = $1',
    [eventId],
  );
  const row = rows[0];
  return { matchedRuns: row?.matched_runs ?? 0, startedRuns: row?.started_runs ?? [], refusedStarts: row?.refused_starts ?? [] };
}

/** Unexpired events published more than `graceMs` ago and still not delivered, oldest first. */
export async function undeliveredOrgEvents(db: Queryable, graceMs: number, limit: number): Promise<OrgEvent[]> {
  const { rows } = await db.query<{ event_id: string; organization_id: string; name: string; correlation_key: string | null; payload: unknown }>(
    `SELECT event_id, organization_id, name, correlation_key, payload FROM org_events
     WHERE delivered_at IS NULL AND published_at < now() - $1::int * interval '1 millisecond' AND expires_at > now()
     ORDER BY published_at LIMIT $2`,
    [graceMs, limit],
  );
  return rows.map((row) => ({
    eventId: row.event_id,
    organizationId: row.organization_id,
    name: row.name,
    correlationKey: row.correlation_key,
    payload: row.payload,
  }));
}
