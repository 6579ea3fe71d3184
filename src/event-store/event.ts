/** Who caused an event. Every event records one (ARCHITECTURE §5). */
export interface Actor {
  /** `event`: a run an organization event started (`trigger_event`); its id is the event's. */
  type: 'user' | 'api_key' | 'schedule' | 'webhook' | 'event' | 'system';
  id: string;
}

/**
 * Provenance carried by every event: who, under which request, caused by what, and the agent
 * label a client sent in `X-Thodare-Agent`.
 */
export interface EventMetadata {
  actor: Actor;
  requestId?: string;
  correlationId?: string;
  causationId?: string;
  agent?: string;
}

/** An event about to be appended: a past-tense `type` and a JSON-serialisable payload. */
export interface NewEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
}

/** An event as stored. Positions are numbers (safe up to 2^53 events). */
export interface RecordedEvent<Type extends string = string, Data = unknown> {
  globalPosition: number;
  /** The writing transaction's xid8, as text; with `globalPosition` it orders catch-up reads. */
  transactionId: string;
  streamId: string;
  streamVersion: number;
  organizationId: string;
  type: Type;
  data: Data;
  metadata: EventMetadata;
  /** When it was stored, to the millisecond (a Date holds no more). */
  recordedAt: Date;
  /** The same instant exactly as stored, with Postgres' microseconds (ISO 8601, UTC): what the audit seal covers. */
  recordedAtExact: string;
}

/**
 * `recorded_at` as ISO 8601 UTC text with all six fractional digits: read with the row, so an
 * exact reader (the audit sealer) needs no second query.
 */
export const RECORDED_AT_EXACT = `to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * The version a stream is at (0: none yet), for the appends' version checks: `stream` and
 * `organization` are SQL (parameters). It names the organization, so Citus would route the
 * statement to one shard (a stream is one organization's: docs/scaling.md, point 6), and reads the
 * last version by `ORDER BY … DESC LIMIT 1`: as `max()` with the organization's condition, the
 * generic plan of a named statement read every event of the stream (an aggregate over the index).
 */
export const streamHeadSql = (stream: string, organization: string) =>
  `coalesce((SELECT s.stream_version FROM events s WHERE s.stream_id = ${stream} AND s.organization_id = ${organization} ORDER BY s.stream_version DESC LIMIT 1), 0)`;

/** A position in commit order: events strictly after it are the ones still to read. */
export interface Checkpoint {
  transactionId: string;
  globalPosition: number;
}

export const START: Checkpoint = { transactionId: '0', globalPosition: 0 };

export interface EventRow {
  global_position: string;
  transaction_id: string;
  stream_id: string;
  stream_version: number;
  organization_id: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
  recorded_at_exact: string;
}

/** Note: `transaction_id` comes back as text, so ORDER BY must name `events.transaction_id`. */
export const EVENT_COLUMNS = `global_position, transaction_id::text AS transaction_id, stream_id, stream_version, organization_id, type, data, metadata, ${RECORDED_AT_EXACT} AS recorded_at_exact`;

/**
 * `recordedAt` from the exact text: the Date keeps its milliseconds, as pg's own timestamptz parser
 * would (both truncate the microseconds). Reading the column a second time for pg to parse cost the
 * database a timestamp's output per row and this process a regex: over a quarter of the time the
 * audit sealer spent parsing its rows, for a Date it never looks at.
 */
export const recordedAtOf = (exact: string): Date => new Date(exact);

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    globalPosition: Number(row.global_position),
    transactionId: row.transaction_id,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    organizationId: row.organization_id,
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    recordedAt: recordedAtOf(row.recorded_at_exact),
    recordedAtExact: row.recorded_at_exact,
  };
}

/**
 * Bytes of event data and metadata, as stored, a catch-up read (`EventStore.readAll`: projection
 * passes, rebuilds) holds past its first event. Its count limit alone let a backlog of large
 * events through whole: 5,000 step outputs at the 256 KiB payload limit are over a gigabyte in
 * one read, in a worker that shares its heap with the runs. A W3 burst's 2,481 events store
 * ~0.7 MB, and still come in one read.
 */
export const CATCH_UP_BYTES = 16 * 2 ** 20;

/** A catch-up read: its events, and whether events committed below its horizon were left for the next one. */
export interface EventPage {
  events: RecordedEvent[];
  more: boolean;
}

/** Event data (as JSON text) a page for a reader outside the runtime holds past its first event. */
export const STREAM_PAGE_BYTES = 4 * 2 ** 20;

/**
 * The SQL of a page of events for a reader outside the runtime (an API page, a stream or export
 * to a client): the events matching `where`, in `order`, at most `$<limit>` of them and, past the
 * first, at most `$<bytes>` of event data as JSON text. The size is measured in the database, so a
 * page of large events is cut before it is fetched (500 events of a run can hold a hundred
 * megabytes, 500 of a workflow's history gigabytes). Read it with {@link sizeCappedPage}.
 */
export function sizeCappedPageSql(where: string, order: readonly string[], limit: number, bytes: number): string {
  const by = order.join(', ');
  // The outer ORDER BY names the subquery's columns: `transaction_id` alone would be the text of EVENT_COLUMNS.
  const outer = order.map((column) => `events.${column}`).join(', ');
  return `SELECT ${EVENT_COLUMNS}, page_rows FROM (
    SELECT *, count(*) OVER () AS page_rows, row_number() OVER (ORDER BY ${by}) AS n, sum(size) OVER (ORDER BY ${by}) AS bytes_through
    FROM (SELECT *, octet_length(data::text) AS size FROM events WHERE ${where} ORDER BY ${by} LIMIT $${limit}::integer + 1) limited
  ) events
  WHERE n <= $${limit}::integer AND (n = 1 OR bytes_through <= $${bytes}::bigint)
  ORDER BY ${outer}`;
}

/** The rows of a {@link sizeCappedPageSql} page: its events, and whether more follow them. */
export function sizeCappedPage(rows: (EventRow & { page_rows: string })[]): { events: RecordedEvent[]; more: boolean } {
  return { events: rows.map(toRecordedEvent), more: rows.length > 0 && Number(rows[0]!.page_rows) > rows.length };
}

