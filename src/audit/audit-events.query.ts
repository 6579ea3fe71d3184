import { AppError } from '../errors';
import { sizeCappedPage, sizeCappedPageSql, STREAM_PAGE_BYTES, type Checkpoint, type EventRow, type RecordedEvent } from '../event-store/event';
import type { Queryable } from '../event-store/projection';
import { decodeCursor } from '../http/keyset';
import type { AuditEventsQuery } from './audit-events.schemas';

/** What `GET /api/audit/events` narrows to, beyond the organization. */
export interface AuditFilter {
  types: string[] | null;
  streamId: string | null;
  actorType: string | null;
  actorId: string | null;
  agent: string | null;
  from: Date | null;
  to: Date | null;
}

const ACTOR = /^(user|api_key|schedule|webhook|system):(.+)$/;

export function auditFilterOf(query: AuditEventsQuery): AuditFilter {
  const actor = query.actor ? ACTOR.exec(query.actor) : null;
  return {
    types: query.type ?? null,
    streamId: query.streamId ?? null,
    actorType: actor?.[1] ?? null,
    actorId: actor ? actor[2]! : (query.actor ?? null),
    agent: query.agent ?? null,
    from: query.from ? new Date(query.from) : null,
    to: query.to ? new Date(query.to) : null,
  };
}

const XID8_LIMIT = 2n ** 64n;

/** The position inside an `after` cursor; 400 `invalid_query` for one this endpoint did not return. */
export function positionOfCursor(cursor: string): Checkpoint {
  const [transactionId, globalPosition] = decodeCursor(cursor, ['string', 'number']) as [string, number];
  // decodeCursor checks the types; an xid8 must also be a number Postgres accepts, or the query would fail with a 500.
  if (/^\d{1,20}$/.test(transactionId) && BigInt(transactionId) < XID8_LIMIT && Number.isSafeInteger(globalPosition) && globalPosition >= 0) {
    return { transactionId, globalPosition };
  }
  throw new AppError('invalid_query', 'invalid query string: after: not a cursor this endpoint returned', {
    issues: [{ path: 'after', code: 'invalid_cursor', message: 'not a cursor this endpoint returned' }],
  });
}

/**
 * Commit order on the `events_organization_order` index, below a transaction horizon: an event
 * whose transaction is still open is read later, never skipped (ARCHITECTURE §5). `$4` fixes the
 * horizon (a stream pins it at its start so it ends); null = the oldest open transaction now.
 * Cut by count and by size (`sizeCappedPageSql`, `STREAM_PAGE_BYTES`).
 */
const READ_SQL = sizeCappedPageSql(
  `organization_id = $1
    AND (transaction_id, global_position) > ($2::xid8, $3::bigint)
    AND transaction_id < coalesce($4::xid8, pg_snapshot_xmin(pg_current_snapshot()))
    AND ($5::text[] IS NULL OR type = ANY($5::text[]))
    AND ($6::text IS NULL OR stream_id = $6)
    AND ($7::text IS NULL OR metadata->'actor'->>'type' = $7)
    AND ($8::text IS NULL OR metadata->'actor'->>'id' = $8)
    AND ($9::text IS NULL OR metadata->>'agent' = $9)
    AND ($10::timestamptz IS NULL OR recorded_at >= $10)
    AND ($11::timestamptz IS NULL OR recorded_at < $11)`,
  ['transaction_id', 'global_position'],
  12,
  13,
);

/**
 * Up to `limit` of the organization's events after `after`, in commit order, filtered, and past
 * the first at most `STREAM_PAGE_BYTES` of event data; `more`: events follow them.
 */
export async function readAuditEvents(
  db: Queryable,
  organizationId: string,
  filter: AuditFilter,
  after: Checkpoint,
  limit: number,
  horizon: string | null = null,
): Promise<{ events: RecordedEvent[]; more: boolean }> {
  const { rows } = await db.query<EventRow & { page_rows: string }>({
    name: 'thodare_audit_events',
    text: READ_SQL,
    values: [
      organizationId,
      after.transactionId,
      after.globalPosition,
      horizon,
      filter.types,
      filter.streamId,
      filter.actorType,
      filter.actorId,
      filter.agent,
      filter.from,
      filter.to,
      limit,
      STREAM_PAGE_BYTES,
    ],
  });
  return sizeCappedPage(rows);
}

/** The oldest transaction still open: a stream reads below it, so it ends at what was committed when it began. */
export async function currentHorizon(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ horizon: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon');
  return rows[0]!.horizon;
}
