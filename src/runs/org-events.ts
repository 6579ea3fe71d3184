import type { Queryable } from '../event-store/projection';
import { decodeCursor, toPage } from '../http/keyset';
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

/** A publication as `GET /api/events` shows it: the event, its retention, and what its delivery did. */
export interface OrgEventView extends Delivery {
  eventId: string;
  name: string;
  correlationKey: string | null;
  payload: unknown;
  publishedAt: string;
  expiresAt: string;
  /** When its delivery was recorded; null while it is under way (or its publisher crashed: a worker delivers it). */
  deliveredAt: string | null;
}

interface OrgEventRow {
  event_id: string;
  name: string;
  correlation_key: string | null;
  payload: unknown;
  published_key: string;
  expires_at: Date;
  delivered_at: Date | null;
  matched_runs: number;
  started_runs: Delivery['startedRuns'];
  refused_starts: Delivery['refusedStarts'];
}

// The publication time with its microseconds: the page's sort key, exact in a cursor.
const VIEW_COLUMNS = `event_id, name, correlation_key, payload, expires_at, delivered_at, matched_runs, started_runs, refused_starts,
  to_char(published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS published_key`;

function orgEventView(row: OrgEventRow): OrgEventView {
  return {
    eventId: row.event_id,
    name: row.name,
    correlationKey: row.correlation_key,
    payload: row.payload,
    publishedAt: row.published_key,
    expiresAt: row.expires_at.toISOString(),
    deliveredAt: row.delivered_at?.toISOString() ?? null,
    matchedRuns: row.matched_runs,
    startedRuns: row.started_runs,
    refusedStarts: row.refused_starts,
  };
}

/** The organization's unexpired publications, newest first, of one name when given; keyset-paginated. */
export async function listOrgEvents(db: Queryable, organizationId: string, page: { name?: string; after?: string; limit: number }): Promise<{ data: OrgEventView[]; next: string | null }> {
  const [at, id] = page.after ? decodeCursor(page.after, ['time', 'string']) : [null, null];
  const { rows } = await db.query<OrgEventRow>(
    `SELECT ${VIEW_COLUMNS} FROM org_events
     WHERE organization_id = $1 AND ($2::text IS NULL OR name = $2) AND expires_at > now()
       AND ($3::timestamptz IS NULL OR (published_at, event_id) < ($3::timestamptz, $4::text))
     ORDER BY published_at DESC, event_id DESC LIMIT $5`,
    [organizationId, page.name ?? null, at, id, page.limit + 1],
  );
  const { items, next } = toPage(rows, page.limit, orgEventView, (row) => [row.published_key, row.event_id]);
  return { data: items, next };
}

/** One unexpired publication of the organization; undefined for another organization's, or an expired one. */
export async function orgEventById(db: Queryable, organizationId: string, eventId: string): Promise<OrgEventView | undefined> {
  const { rows } = await db.query<OrgEventRow>(`SELECT ${VIEW_COLUMNS} FROM org_events WHERE event_id = $1 AND organization_id = $2 AND expires_at > now()`, [eventId, organizationId]);
  return rows[0] && orgEventView(rows[0]);
}
