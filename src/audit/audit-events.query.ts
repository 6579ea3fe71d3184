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

const ACTOR = /^(user|api_key|schedule|webhook|event|system):(.+)$/;

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
 * Cut by count and by size (`sizeCappedPageSql`, `STREAM_PAGE_BYTES`). One statement per kind of
 * read, so that each keeps a plan that uses its index, generic or not:
 * - `stream`: `$6` names one stream, read on its own index (an optional `stream_id = $6` cannot
 *   pick that index in a generic plan, which then walked the organization's whole history);
 * - `window`: read up to `$14`/`$15`, the last event of a scan window (see `readAuditEvents`);
 *   its bare `transaction_id` bounds are what the planner estimates a range by (with row
 *   comparisons alone it took a 20,000-event window for the whole table and scanned it);
 * - `all`: neither.
 */
type ReadKind = 'all' | 'window' | 'stream';
const readSql = (kind: ReadKind) =>
  sizeCappedPageSql(
    `organization_id = $1
    AND transaction_id >= $2::xid8 AND (transaction_id, global_position) > ($2::xid8, $3::bigint)
    AND transaction_id < coalesce($4::xid8, pg_snapshot_xmin(pg_current_snapshot()))
    ${kind === 'window' ? 'AND transaction_id <= $14::xid8 AND (transaction_id, global_position) <= ($14::xid8, $15::bigint)' : ''}
    AND ($5::text[] IS NULL OR type = ANY($5::text[]))
    AND ${kind === 'stream' ? 'stream_id = $6::text' : '$6::text IS NULL'}
    AND ($7::text IS NULL OR metadata->'actor'->>'type' = $7)
    AND ($8::text IS NULL OR metadata->'actor'->>'id' = $8)
    AND ($9::text IS NULL OR metadata->>'agent' = $9)
    AND ($10::timestamptz IS NULL OR recorded_at >= $10)
    AND ($11::timestamptz IS NULL OR recorded_at < $11)`,
    ['transaction_id', 'global_position'],
    12,
    13,
  );
const READ_SQL: Record<ReadKind, string> = { all: readSql('all'), window: readSql('window'), stream: readSql('stream') };

/**
 * The last event of a scan window: the `$5`-th of the organization's events after the cursor,
 * below the horizon (none: the window reaches the end). An index-only walk of the window (~0.13
 * µs an event here); the text cast is made once, outside it: inside, every skipped event paid it
 * (~0.07 µs more each), and a column aliased `transaction_id` would have been the text that
 * `ORDER BY` sorted (a scan and a sort instead of the index).
 */
const WINDOW_END_SQL = `SELECT w.transaction_id::text AS end_transaction_id, w.global_position AS end_position FROM (
  SELECT transaction_id, global_position FROM events
  WHERE organization_id = $1
    AND transaction_id >= $2::xid8 AND (transaction_id, global_position) > ($2::xid8, $3::bigint)
    AND transaction_id < coalesce($4::xid8, pg_snapshot_xmin(pg_current_snapshot()))
  ORDER BY transaction_id, global_position OFFSET $5::integer - 1 LIMIT 1) w`;

/**
 * Whether reading `filter` may walk the organization's history event by event: every filter
 * without `streamId` (a stream is read on its own index, `READ_SQL.stream`). Such a read is done
 * in windows.
 */
function scansHistory(filter: AuditFilter): boolean {
  if (filter.streamId !== null) return false;
  return filter.types !== null || filter.actorType !== null || filter.actorId !== null || filter.agent !== null || filter.from !== null || filter.to !== null;
}

/**
 * Up to `limit` of the organization's events after `after`, in commit order, filtered, and past
 * the first at most `STREAM_PAGE_BYTES` of event data. `next`: where the following page starts
 * (null: nothing more is committed yet). A filter that can only be checked event by event reads
 * at most `scanRows` events a page: a rare match in a long history answered 503 once its scan
 * outlasted the statement timeout (at ~0.2 µs an event, some 75 million events), where now each
 * page answers after its window with what matched in it — possibly nothing — and `next` at the
 * window's end.
 */
export async function readAuditEvents(
  db: Queryable,
  organizationId: string,
  filter: AuditFilter,
  after: Checkpoint,
  limit: number,
  scanRows: number,
  horizon: string | null = null,
): Promise<{ events: RecordedEvent[]; next: Checkpoint | null }> {
  let windowEnd: Checkpoint | undefined;
  if (scansHistory(filter)) {
    const { rows } = await db.query<{ end_transaction_id: string; end_position: string }>({
      name: 'thodare_audit_window',
      text: WINDOW_END_SQL,
      values: [organizationId, after.transactionId, after.globalPosition, horizon, scanRows],
    });
    if (rows[0]) windowEnd = { transactionId: rows[0].end_transaction_id, globalPosition: Number(rows[0].end_position) };
  }
  const kind: ReadKind = filter.streamId !== null ? 'stream' : windowEnd ? 'window' : 'all';
  const values: unknown[] = [
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
  ];
  if (windowEnd) values.push(windowEnd.transactionId, windowEnd.globalPosition);
  const { rows } = await db.query<EventRow & { page_rows: string }>({ name: `thodare_audit_events_${kind}`, text: READ_SQL[kind], values });
  const { events, more } = sizeCappedPage(rows);
  const last = events.at(-1);
  if (more && last) return { events, next: { transactionId: last.transactionId, globalPosition: last.globalPosition } };
  return { events, next: windowEnd ?? null };
}

/** The oldest transaction still open: a stream reads below it, so it ends at what was committed when it began. */
export async function currentHorizon(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ horizon: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon');
  return rows[0]!.horizon;
}
