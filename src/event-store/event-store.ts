import type { Pool, PoolClient } from 'pg';
import { inTransaction } from '../database/pool';
import { applyAll, handlesEvent, type AppendHint, type Projection, type Queryable } from './projection';
import { InvalidAppend, StreamVersionConflict } from './errors';
import { AppendGroups, type CommittedAppend } from './append-groups';
import { StreamAppendGroups } from './stream-append-groups';
import { CATCH_UP_BYTES, Checkpoint, EVENT_COLUMNS, EventPage, RECORDED_AT_EXACT, recordedAtOf, streamHeadSql, EventMetadata, EventRow, NewEvent, RecordedEvent, sizeCappedPage, sizeCappedPageSql, toRecordedEvent } from './event';

export interface AppendOptions {
  organizationId: string;
  metadata: EventMetadata;
  /** Send one NOTIFY on commit so listeners wake now instead of at their next poll. */
  notify?: boolean;
  /** With `notify`: the appending instance, when it also tells its own listeners in process (see `RunChanges.origin`). */
  notifyOrigin?: string;
  /** Join the caller's transaction instead of committing on our own. */
  client?: PoolClient;
  /** Handed to the inline projections with each event of the append (see `AppendHint`). */
  hint?: AppendHint;
}

export interface AppendResult {
  /** The stream's version after the append: the expected version for the next one. */
  nextVersion: number;
  events: RecordedEvent[];
}

export const MAX_EVENTS_PER_APPEND = 1000;

/** One stream's batch in an `appendMany`. */
export interface StreamAppend {
  streamId: string;
  expectedVersion: number;
  organizationId: string;
  events: NewEvent[];
  metadata: EventMetadata;
}

interface InsertedRow {
  global_position: string;
  transaction_id: string;
  stream_version: number;
  recorded_at_exact: string;
}

/**
 * Inserts a batch only when the stream is still at `expectedVersion` (0 = new stream), in one
 * statement: the check of the stream's head (`streamHeadSql`) rejects stale writers, and the unique
 * (stream_id, stream_version, organization_id) key rejects the concurrent ones that read the same.
 * `append_streams` (migrations/0015) does the same for many streams at once. The optional NOTIFY
 * rides in the same statement, so it is sent if and only if it commits.
 * Parameters: $1 stream id, $2 expected version, $3 organization id, $4 the events as one JSON
 * array (`[{type, data}]`), $5 metadata (JSON). One JSON rather than arrays of types and
 * payloads: pg quotes and escapes each element of an array parameter in JavaScript, and for a
 * workflow patch (a 200-block snapshot, ~56 KB) that escaping cost more than writing the JSON.
 * A plain statement rather than the PL/pgSQL function `append_events` (migrations/0009, 0035):
 * the function's call and its `RETURN QUERY` cost a one-event append 1–6 % of its rate (ten
 * interleaved rounds on one connection, docs/benchmark-history.md, forty-seventh session).
 */
const APPEND_SQL = `
  INSERT INTO events AS e (stream_id, stream_version, organization_id, type, data, metadata)
  SELECT $1, $2 + sent.n::integer, $3, sent.event->>'type', sent.event->'data', $5::jsonb
  FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS sent(event, n)
  WHERE ${streamHeadSql('$1', '$3')} = $2
  RETURNING global_position, transaction_id::text AS transaction_id, stream_version, ${RECORDED_AT_EXACT} AS recorded_at_exact`;

/**
 * Many streams' batches through the store's `append_streams` (migrations/0015: one version check
 * per stream, one INSERT for all): $1 the batches as JSON `[{stream, expected, organization,
 * types, data, metadata}]`. A row per inserted event, with its batch's ordinal.
 */
const APPEND_MANY_SQL = `
  SELECT ord, global_position, transaction_id::text AS transaction_id, stream_version, ${RECORDED_AT_EXACT} AS recorded_at_exact
  FROM append_streams($1::jsonb)`;

const APPEND_AND_NOTIFY_SQL = `
WITH inserted AS (${APPEND_SQL}
), notified AS (
  SELECT pg_notify($6::text, $7::text) FROM (SELECT 1 FROM inserted LIMIT 1) AS any_row
)
SELECT inserted.* FROM inserted LEFT JOIN notified ON true`;

function checkAppendSize(events: readonly NewEvent[]): void {
  if (events.length === 0) throw new InvalidAppend('an append needs at least one event');
  if (events.length > MAX_EVENTS_PER_APPEND) throw new InvalidAppend(`at most ${MAX_EVENTS_PER_APPEND} events per append`);
}

/** The conflict an append to a stream that had moved meets in a statement of many (its current version unknown there). */
const conflictOf = (append: StreamAppend): StreamVersionConflict => new StreamVersionConflict(append.streamId, append.expectedVersion, -1);

/** An inserted row as readers get it: the payload as stored (parsed back from the JSON sent, as jsonb would give it). */
function recordedOf(row: InsertedRow, streamId: string, organizationId: string, event: NewEvent, data: unknown, metadata: unknown): RecordedEvent {
  return {
    globalPosition: Number(row.global_position),
    transactionId: row.transaction_id,
    streamId,
    streamVersion: row.stream_version,
    organizationId,
    type: event.type,
    data,
    metadata: metadata as EventMetadata,
    recordedAt: recordedAtOf(row.recorded_at_exact),
    recordedAtExact: row.recorded_at_exact,
  };
}

/**
 * The append-only Postgres event store (ARCHITECTURE §5). Streams are optimistic-concurrency
 * units; inline projections run in the append's transaction; global reads follow commit
 * order and never skip an event committed late by a concurrent transaction.
 */
export class EventStore {
  private readonly inline: Projection[];
  /** Appends that commit on their own and do nothing more (no inline projection, no NOTIFY): concurrent ones share a statement. */
  private readonly ownCommits = new StreamAppendGroups({
    insertStreams: (appends) => this.insertStreams(this.pool, appends),
    appendAlone: (a) => this.appendOn(this.pool, a.streamId, a.expectedVersion, a.events, { organizationId: a.organizationId, metadata: a.metadata }, []),
  });

  /** Appends that commit on their own with inline projections or a NOTIFY: concurrent ones share a transaction. */
  private readonly sharedCommits = new AppendGroups({
    appendTogether: (appends) => inTransaction(this.pool, (client) => this.appendEachOn(client, appends)),
    appendAlone: (a) => this.appendCommitted(a),
  });

  constructor(
    private readonly pool: Pool,
    /** NOTIFY channel for `notify: true` appends; listeners subscribe to the same name. */
    readonly channel: string,
    /** The application's read models: the inline ones run in every append, the async ones in the runner. */
    readonly projections: readonly Projection[] = [],
  ) {
    this.inline = projections.filter((p) => p.mode === 'inline');
  }

  /** The inline projections an append of these events runs. */
  inlineProjectionsOf(events: readonly { type: string; data?: unknown }[]): Projection[] {
    return this.inline.filter((p) => events.some((e) => handlesEvent(p, e)));
  }

  async append(streamId: string, expectedVersion: number, events: NewEvent[], options: AppendOptions): Promise<AppendResult> {
    checkAppendSize(events);
    const projections = this.inlineProjectionsOf(events);
    if (options.client) return this.appendOn(options.client, streamId, expectedVersion, events, options, projections);
    if (projections.length === 0 && !options.notify) return this.ownCommits.append({ streamId, expectedVersion, events, organizationId: options.organizationId, metadata: options.metadata });
    return this.sharedCommits.append({ streamId, expectedVersion, events, options, projections });
  }

  /** One append in a commit of its own: a single statement when no inline projection handles its events. */
  private appendCommitted(append: CommittedAppend): Promise<AppendResult> {
    const { streamId, expectedVersion, events, options, projections } = append;
    if (projections.length === 0) return this.appendOn(this.pool, streamId, expectedVersion, events, options, projections);
    return inTransaction(this.pool, (client) => this.appendOn(client, streamId, expectedVersion, events, options, projections));
  }

  /**
   * The appends one after another in `client`'s transaction, each with its inline projections;
   * the rows those lock first (`Projection.lockFirst`) are all taken before any insert, in the
   * group's order (by stream), as the writers of many runs take theirs.
   */
  private async appendEachOn(client: PoolClient, appends: readonly CommittedAppend[]): Promise<AppendResult[]> {
    for (const { streamId, expectedVersion, options, projections } of appends) await lockFirst(client, projections, streamId, expectedVersion, options.hint);
    const results: AppendResult[] = [];
    for (const { streamId, expectedVersion, events, options, projections } of appends) {
      results.push(await this.appendOn(client, streamId, expectedVersion, events, options, projections, true));
    }
    return results;
  }

  private async appendOn(
    db: Queryable,
    streamId: string,
    expectedVersion: number,
    events: NewEvent[],
    options: AppendOptions,
    projections: Projection[],
    /** The projections' rows are already locked (`appendEachOn`). */
    locked = false,
  ): Promise<AppendResult> {
    if (!locked) await lockFirst(db, projections, streamId, expectedVersion, options.hint);
    const sent = JSON.stringify(events.map((e) => ({ type: e.type, data: e.data ?? null })));
    const metadata = JSON.stringify(options.metadata);
    let rows: InsertedRow[];
    try {
      // A named statement is parsed and planned once per connection: on the hot path the
      // statement's planning would otherwise cost as much as the insert itself.
      const values = [streamId, expectedVersion, options.organizationId, sent, metadata];
      ({ rows } = await db.query<InsertedRow>(
        options.notify
          ? { name: 'thodare_append_notify', text: APPEND_AND_NOTIFY_SQL, values: [...values, this.channel, JSON.stringify({ streamId, ...(options.notifyOrigin ? { origin: options.notifyOrigin } : {}) })] }
          : { name: 'thodare_append', text: APPEND_SQL, values },
      ));
    } catch (error) {
      if ((error as { constraint?: string }).constraint === 'events_stream_version_unique') {
        throw new StreamVersionConflict(streamId, expectedVersion, expectedVersion + 1);
      }
      throw error;
    }
    if (rows.length === 0) {
      throw new StreamVersionConflict(streamId, expectedVersion, await this.streamVersion(streamId, db));
    }
    rows.sort((a, b) => a.stream_version - b.stream_version);
    // Readers get the payloads as stored: parsed back from the JSON sent, as jsonb would give them.
    const stored = JSON.parse(sent) as { data: unknown }[];
    const recorded = rows.map((row, i) => recordedOf(row, streamId, options.organizationId, events[i]!, stored[i]!.data, JSON.parse(metadata)));
    for (const event of recorded) {
      for (const projection of projections) {
        if (handlesEvent(projection, event)) await projection.apply(db, event, options.hint);
      }
    }
    return { nextVersion: expectedVersion + recorded.length, events: recorded };
  }

  /**
   * Appends to many streams (one batch each) in one statement, in the caller's transaction: a stream that moved
   * throws `StreamVersionConflict` after the other streams' rows were written, and only the
   * caller's rollback takes those back. Inline projections see each one's events in order (in
   * one call of its batch form when it has one). For writers of many streams at once (a
   * scheduler pass); everything else appends one stream at a time.
   */
  async appendMany(appends: readonly StreamAppend[], options: { client: PoolClient }): Promise<AppendResult[]> {
    if (appends.length === 0) return [];
    for (const append of appends) checkAppendSize(append.events);
    if (new Set(appends.map((a) => a.streamId)).size !== appends.length) throw new InvalidAppend('appendMany: one batch per stream');
    const written = await this.insertStreams(options.client, appends);
    const results = written.map((result, i) => {
      if (!result) throw conflictOf(appends[i]!);
      return result;
    });
    const recorded = results.flatMap((r) => r.events);
    for (const projection of this.inline) {
      await applyAll(projection, options.client, recorded.filter((event) => handlesEvent(projection, event)));
    }
    return results;
  }

  /**
   * The appends (to different streams) in one statement on `db` through `append_streams`: each
   * one's result, or undefined where its stream had moved (its rows were not written; the others'
   * were). A concurrent writer that read the same version fails the whole statement.
   */
  private async insertStreams(db: Queryable, appends: readonly StreamAppend[]): Promise<(AppendResult | undefined)[]> {
    const batches = appends.map((a) => ({
      stream: a.streamId,
      expected: a.expectedVersion,
      organization: a.organizationId,
      types: a.events.map((e) => e.type),
      data: a.events.map((e) => e.data ?? null),
      metadata: a.metadata,
    }));
    const sent = JSON.stringify(batches);
    let rows: (InsertedRow & { ord: number })[];
    try {
      ({ rows } = await db.query<InsertedRow & { ord: number }>({ name: 'thodare_append_many', text: APPEND_MANY_SQL, values: [sent] }));
    } catch (error) {
      if ((error as { constraint?: string }).constraint === 'events_stream_version_unique') throw conflictOf(appends[0]!);
      throw error;
    }
    // Readers get the payloads and metadata as stored: parsed back from the JSON sent, as jsonb would give them.
    const stored = JSON.parse(sent) as { data: unknown[]; metadata: unknown }[];
    const byAppend = appends.map((): (InsertedRow & { ord: number })[] => []);
    for (const row of rows) byAppend[row.ord - 1]!.push(row);
    return appends.map((append, i): AppendResult | undefined => {
      const inserted = byAppend[i]!.sort((a, b) => a.stream_version - b.stream_version);
      if (inserted.length === 0) return undefined;
      const events = inserted.map((row, n) => recordedOf(row, append.streamId, append.organizationId, append.events[n]!, stored[i]!.data[n], stored[i]!.metadata));
      return { nextVersion: append.expectedVersion + events.length, events };
    });
  }

  /** The stream's current version; 0 when it does not exist. */
  async streamVersion(streamId: string, db: Queryable = this.pool): Promise<number> {
    const { rows } = await db.query<{ version: number }>(
      'SELECT coalesce(max(stream_version), 0)::int AS version FROM events WHERE stream_id = $1',
      [streamId],
    );
    return rows[0]?.version ?? 0;
  }

  /** A stream's events in version order, from `fromVersion` (inclusive, default 1). */
  async readStream(
    streamId: string,
    options: { fromVersion?: number; limit?: number; organizationId?: string; db?: Queryable } = {},
  ): Promise<RecordedEvent[]> {
    const { rows } = await (options.db ?? this.pool).query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE stream_id = $1 AND stream_version >= $2 AND ($3::text IS NULL OR organization_id = $3)
       ORDER BY stream_version LIMIT $4`,
      [streamId, options.fromVersion ?? 1, options.organizationId ?? null, options.limit ?? null],
    );
    return rows.map(toRecordedEvent);
  }

  /** Several streams whole, in one read: each stream's events in version order, by stream id (absent streams absent). */
  async readStreams(streamIds: readonly string[], options: { organizationId?: string; db?: Queryable } = {}): Promise<Map<string, RecordedEvent[]>> {
    const streams = new Map<string, RecordedEvent[]>();
    if (streamIds.length === 0) return streams;
    const { rows } = await (options.db ?? this.pool).query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE stream_id = ANY($1::text[]) AND ($2::text IS NULL OR organization_id = $2)
       ORDER BY stream_id, stream_version`,
      [streamIds, options.organizationId ?? null],
    );
    for (const row of rows) {
      const event = toRecordedEvent(row);
      const events = streams.get(event.streamId);
      if (events) events.push(event);
      else streams.set(event.streamId, [event]);
    }
    return streams;
  }

  /** A page of a stream for a reader outside the runtime, cut by count and by size: `sizeCappedPageSql`. */
  async readStreamPage(
    streamId: string,
    options: { fromVersion: number; limit: number; maxBytes: number; organizationId?: string },
  ): Promise<{ events: RecordedEvent[]; more: boolean }> {
    const where = 'stream_id = $1 AND stream_version >= $2 AND ($3::text IS NULL OR organization_id = $3)';
    const { rows } = await this.pool.query<EventRow & { page_rows: string }>(sizeCappedPageSql(where, ['stream_version'], 4, 5), [
      streamId,
      options.fromVersion,
      options.organizationId ?? null,
      options.limit,
      options.maxBytes,
    ]);
    return sizeCappedPage(rows);
  }

  /**
   * Events committed after `after`, in commit order `(transaction_id, global_position)`, and
   * only below the oldest transaction still open: an event whose transaction commits later
   * is read later, never skipped (a bare `global_position > last` would lose it). At most
   * `limit` events and, past the first, `maxBytes` of their data and metadata as stored
   * (`CATCH_UP_BYTES`); `more`: events below the horizon were left for the next read.
   */
  async readAll(
    after: Checkpoint,
    options: { limit?: number; maxBytes?: number; organizationId?: string; db?: Queryable; belowOpenTransactions?: boolean } = {},
  ): Promise<EventPage> {
    // `belowOpenTransactions: false` is only for readers that have locked out every writer
    // that could still commit below their position (an inline projection's rebuild).
    const horizon = options.belowOpenTransactions === false ? '' : 'AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())';
    // The size is the stored one (`pg_column_size`: no value is decompressed or printed to
    // measure it), so the events past the cap cost the database nothing more than their index
    // entries; a compressed value takes more room once read than it counts for here.
    // Named, so each connection plans it once: planned afresh, a short read (a pass after a few
    // runs) took 493-654 µs against 356-524 for the uncapped statement; named, 259-415 (probe).
    const { rows } = await (options.db ?? this.pool).query<EventRow & { read_rows: string }>({
      name: horizon ? 'thodare-read-all' : 'thodare-read-all-locked',
      text: `SELECT ${EVENT_COLUMNS}, read_rows FROM (
         SELECT *, count(*) OVER () AS read_rows, row_number() OVER w AS n,
           sum(pg_column_size(data) + pg_column_size(metadata)) OVER w AS bytes_through
         FROM (SELECT * FROM events
               WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint) ${horizon}
                 AND ($3::text IS NULL OR organization_id = $3)
               ORDER BY transaction_id, global_position LIMIT $4::integer + 1) limited
         WINDOW w AS (ORDER BY transaction_id, global_position)
       ) events
       WHERE n <= $4::integer AND (n = 1 OR bytes_through <= $5::bigint)
       ORDER BY events.transaction_id, events.global_position`,
      values: [after.transactionId, after.globalPosition, options.organizationId ?? null, options.limit ?? 1000, options.maxBytes ?? CATCH_UP_BYTES],
    });
    return { events: rows.map(toRecordedEvent), more: rows.length > 0 && Number(rows[0]!.read_rows) > rows.length };
  }
}

/** The rows the append's inline projections lock before its events go in (`Projection.lockFirst`). */
async function lockFirst(db: Queryable, projections: readonly Projection[], streamId: string, expectedVersion: number, hint: AppendHint | undefined): Promise<void> {
  for (const projection of projections) await projection.lockFirst?.(db, streamId, expectedVersion, hint);
}
