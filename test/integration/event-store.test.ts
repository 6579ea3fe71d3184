import { randomBytes } from 'node:crypto';
import { START } from '../../src/event-store/event';
import { EventStore } from '../../src/event-store/event-store';
import { StreamVersionConflict } from '../../src/event-store/errors';
import { inTransaction } from '../../src/database/pool';
import type { Projection } from '../../src/event-store/projection';
import { createTestDatabase, readWhenVisible, TestDatabase } from '../support/database';
import { systemMetadata } from '../support/metadata';

const org = 'org-a';
let db: TestDatabase;
let store: EventStore;

beforeAll(async () => {
  db = await createTestDatabase('event_store', 30);
  store = new EventStore(db.pool, `${db.schema}.events`);
});
afterAll(() => db.drop());

const opts = { organizationId: org, metadata: systemMetadata };

describe('append and readStream', () => {
  it('appends a batch at the expected version and reads it back in order with its metadata', async () => {
    const metadata = {
      actor: { type: 'user' as const, id: 'u1' },
      requestId: 'req-1',
      correlationId: 'corr-1',
      causationId: 'cause-1',
      agent: 'planner-bot/1.2',
    };
    const result = await store.append('s-roundtrip', 0, [{ type: 'A', data: { n: 1 } }, { type: 'B', data: { n: 2 } }], { organizationId: org, metadata });
    expect(result.nextVersion).toBe(2);
    const events = await store.readStream('s-roundtrip');
    expect(events.map((e) => [e.streamVersion, e.type, e.data])).toEqual([[1, 'A', { n: 1 }], [2, 'B', { n: 2 }]]);
    expect(events[0]?.metadata).toEqual(metadata);
    expect(events[0]?.organizationId).toBe(org);
    expect(await store.readStream('s-roundtrip', { fromVersion: 2 })).toHaveLength(1);
  });

  it('stores payloads as sent, in order: quotes, backslashes, unicode, arrays, scalars and null', async () => {
    const payloads = [{ text: 'say "hi" \\ {braces} , [x]' }, ['a', { b: [1, 2.5, -0] }], 'plain "string"', 42, null, { emoji: '🙂 ü \u2028' }, true];
    const events = payloads.map((data, i) => ({ type: `P${i}`, data }));
    const written = await store.append('s-payloads', 0, events, { ...opts, notify: true });
    const expected = payloads.map((data) => JSON.parse(JSON.stringify(data)) as unknown);
    expect(written.events.map((e) => e.data)).toEqual(expected);
    expect((await store.readStream('s-payloads')).map((e) => [e.type, e.data])).toEqual(expected.map((data, i) => [`P${i}`, data]));
  });

  it('gives every reader the recorded time pg itself parses, and the exact text to the microsecond', async () => {
    const appended = (await store.append('s-time', 0, [{ type: 'A', data: {} }, { type: 'B', data: {} }], opts)).events;
    const many = await inTransaction(db.pool, (client) => store.appendMany([{ streamId: 's-time-many', expectedVersion: 0, organizationId: org, events: [{ type: 'A', data: {} }], metadata: systemMetadata }], { client }));
    const read = [...(await store.readStream('s-time')), ...(await store.readStream('s-time-many'))];
    const { rows } = await db.pool.query<{ global_position: string; recorded_at: Date; micros: string }>(
      `SELECT global_position, recorded_at, to_char(recorded_at, 'US') AS micros FROM events WHERE stream_id IN ('s-time', 's-time-many') ORDER BY global_position`,
    );
    for (const event of [...appended, ...many.flatMap((m) => m.events), ...read]) {
      const row = rows.find((r) => Number(r.global_position) === event.globalPosition);
      expect(event.recordedAt).toEqual(row?.recorded_at);
      expect(event.recordedAtExact.slice(-7, -1)).toBe(row?.micros);
    }
  });

  it('refuses a stale or a future expected version with a typed conflict and leaves the stream intact', async () => {
    await store.append('s-stale', 0, [{ type: 'A', data: {} }], opts);
    await expect(store.append('s-stale', 0, [{ type: 'B', data: {} }], opts)).rejects.toBeInstanceOf(StreamVersionConflict);
    await expect(store.append('s-stale', 5, [{ type: 'B', data: {} }], opts)).rejects.toMatchObject({ code: 'version_conflict', actualVersion: 1 });
    expect((await store.readStream('s-stale')).map((e) => e.type)).toEqual(['A']);
  });

  it('lets exactly one of 20 concurrent appenders with the same expected version win', async () => {
    await store.append('s-race', 0, [{ type: 'Created', data: {} }], opts);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => store.append('s-race', 1, [{ type: 'Raced', data: { i } }, { type: 'Raced2', data: { i } }], opts)),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const conflicts = outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof StreamVersionConflict);
    expect(won).toHaveLength(1);
    expect(conflicts).toHaveLength(19);
    const events = await store.readStream('s-race');
    expect(events.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
    expect(new Set(events.slice(1).map((e) => (e.data as { i: number }).i)).size).toBe(1);
  });
});

describe('concurrent appends that commit on their own', () => {
  const transactionsOf = async (streams: string[]) => {
    const { rows } = await db.pool.query<{ n: string }>('SELECT count(DISTINCT transaction_id) AS n FROM events WHERE stream_id = ANY($1)', [streams]);
    return Number(rows[0]?.n);
  };

  it('share a statement and its commit: 16 writers on 16 streams make two transactions, not 16', async () => {
    const streams = Array.from({ length: 16 }, (_, i) => `s-shared-${i}`);
    const results = await Promise.all(streams.map((stream, i) => store.append(stream, 0, [{ type: 'A', data: { i } }, { type: 'B', data: { i } }], opts)));
    // The first goes at once, alone; the fifteen queued behind it go together.
    expect(await transactionsOf(streams)).toBe(2);
    for (const [i, stream] of streams.entries()) {
      expect(results[i]?.nextVersion).toBe(2);
      expect(results[i]?.events.map((e) => [e.streamId, e.streamVersion, e.data])).toEqual([[stream, 1, { i }], [stream, 2, { i }]]);
      expect((await store.readStream(stream)).map((e) => [e.type, e.data])).toEqual([['A', { i }], ['B', { i }]]);
    }
  });

  it('fail one by one: a stream that moved conflicts with its current version, and the others are written', async () => {
    await store.append('s-shared-moved', 0, [{ type: 'A', data: {} }, { type: 'B', data: {} }], opts);
    const streams = ['s-shared-first', 's-shared-ok-1', 's-shared-moved', 's-shared-ok-2'];
    const outcomes = await Promise.allSettled(streams.map((stream) => store.append(stream, 0, [{ type: 'C', data: {} }], opts)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'version_conflict', streamId: 's-shared-moved', expectedVersion: 0, actualVersion: 2 });
    expect((await store.readStream('s-shared-moved')).map((e) => e.type)).toEqual(['A', 'B']);
    expect(await transactionsOf(['s-shared-ok-1', 's-shared-ok-2'])).toBe(1);
  });

  it('fail one by one when a writer outside the group took a stream first: the others are written', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await store.append('s-taken', 0, [{ type: 'Mine', data: {} }], { ...opts, client });
      // Queued behind a first append, three go together; the group's insert to s-taken waits on the open
      // transaction's row and fails the statement once it commits (or, were it later, finds the stream moved).
      const streams = ['s-taken-first', 's-taken-ok-1', 's-taken', 's-taken-ok-2'];
      const settled = Promise.allSettled(streams.map((stream) => store.append(stream, 0, [{ type: 'Theirs', data: {} }], opts)));
      await new Promise((resolve) => setTimeout(resolve, 100));
      await client.query('COMMIT');
      const outcomes = await settled;
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      expect((outcomes[2] as PromiseRejectedResult).reason).toBeInstanceOf(StreamVersionConflict);
    } finally {
      client.release();
    }
    expect((await store.readStream('s-taken')).map((e) => e.type)).toEqual(['Mine']);
    for (const stream of ['s-taken-first', 's-taken-ok-1', 's-taken-ok-2']) expect(await store.streamVersion(stream)).toBe(1);
  });

  it('fail one by one when the database refuses one of them: the others are written', async () => {
    const streams = ['s-refused-first', 's-refused-ok', 's-refused-bad', 's-refused-ok-2'];
    const outcomes = await Promise.allSettled(streams.map((stream) => store.append(stream, 0, [{ type: 'A', data: { text: stream.endsWith('bad') ? 'nul \u0000 here' : 'fine' } }], opts)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(await store.streamVersion('s-refused-bad')).toBe(0);
    for (const stream of ['s-refused-ok', 's-refused-ok-2']) expect(await store.streamVersion(stream)).toBe(1);
  });
});

describe('appendMany', () => {
  it('appends to several streams in one statement, each at its version, in order', async () => {
    await store.append('m-b', 0, [{ type: 'Before', data: {} }], opts);
    const results = await inTransaction(db.pool, (client) =>
      store.appendMany(
        [
          { streamId: 'm-a', expectedVersion: 0, organizationId: org, events: [{ type: 'A1', data: { n: 1 } }, { type: 'A2', data: { n: 2 } }], metadata: systemMetadata },
          { streamId: 'm-b', expectedVersion: 1, organizationId: 'org-b', events: [{ type: 'B2', data: { when: new Date(0) } }], metadata: systemMetadata },
        ],
        { client },
      ),
    );
    expect(results.map((r) => [r.nextVersion, r.events.map((e) => [e.streamId, e.streamVersion, e.type, e.organizationId])])).toEqual([
      [2, [['m-a', 1, 'A1', org], ['m-a', 2, 'A2', org]]],
      [2, [['m-b', 2, 'B2', 'org-b']]],
    ]);
    // Readers get the payload as stored.
    expect(results[1]!.events[0]!.data).toEqual({ when: '1970-01-01T00:00:00.000Z' });
    expect((await store.readStream('m-a')).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect((await store.readStream('m-b')).map((e) => e.type)).toEqual(['Before', 'B2']);
  });

  it('throws a typed conflict when one stream moved, and the rollback leaves every stream as it was', async () => {
    await store.append('m-moved', 0, [{ type: 'First', data: {} }], opts);
    const attempt = inTransaction(db.pool, (client) =>
      store.appendMany(
        [
          { streamId: 'm-fresh', expectedVersion: 0, organizationId: org, events: [{ type: 'X', data: {} }], metadata: systemMetadata },
          { streamId: 'm-moved', expectedVersion: 0, organizationId: org, events: [{ type: 'Y', data: {} }], metadata: systemMetadata },
        ],
        { client },
      ),
    );
    await expect(attempt).rejects.toMatchObject({ code: 'version_conflict', streamId: 'm-moved' });
    expect(await store.readStream('m-fresh')).toEqual([]);
    expect((await store.readStream('m-moved')).map((e) => e.type)).toEqual(['First']);
  });
});

describe('the events table', () => {
  it('refuses UPDATE, DELETE and TRUNCATE, whoever asks', async () => {
    await store.append('s-immutable', 0, [{ type: 'A', data: { v: 1 } }], opts);
    await expect(db.pool.query(`UPDATE events SET data = '{"v":2}' WHERE stream_id = 's-immutable'`)).rejects.toThrow(/append-only/);
    await expect(db.pool.query(`DELETE FROM events WHERE stream_id = 's-immutable'`)).rejects.toThrow(/append-only/);
    await expect(db.pool.query('TRUNCATE events')).rejects.toThrow(/append-only/);
    expect((await store.readStream('s-immutable'))[0]?.data).toEqual({ v: 1 });
  });
});

describe('readAll (global catch-up)', () => {
  it('never skips an event that took a lower position but committed after one the reader already saw', async () => {
    const catchUpStore = new EventStore(db.pool, 'unused');
    const start = await tail();
    const a = await db.pool.connect();
    const b = await db.pool.connect();
    try {
      // B takes its transaction id first, then A inserts (lower global_position), then B inserts and commits.
      await b.query('BEGIN');
      await b.query('SELECT pg_current_xact_id()');
      await a.query('BEGIN');
      const [eventA] = (await catchUpStore.append('s-late-a', 0, [{ type: 'A', data: {} }], { ...opts, client: a })).events;
      const [eventB] = (await catchUpStore.append('s-late-b', 0, [{ type: 'B', data: {} }], { ...opts, client: b })).events;
      await b.query('COMMIT');
      expect(eventA!.globalPosition).toBeLessThan(eventB!.globalPosition);

      const seen = await readWhenVisible(1, catchUpStore, start);
      expect(seen.map((e) => e.streamId)).toEqual(['s-late-b']);
      // A reader trusting a bare `global_position > last` would now have lost A for good:
      const naive = await db.pool.query('SELECT stream_id FROM events WHERE global_position > $1', [seen[0]!.globalPosition]);
      expect(naive.rows).toHaveLength(0);

      await a.query('COMMIT');
      const last = seen.at(-1)!;
      const later = await readWhenVisible(1, catchUpStore, { transactionId: last.transactionId, globalPosition: last.globalPosition });
      expect(later.map((e) => e.streamId)).toEqual(['s-late-a']);
    } finally {
      a.release();
      b.release();
    }
  });

  it('cuts a read by the stored size of its events, always past its first event, and says when more follow', async () => {
    const start = await tail();
    const large = () => ({ type: 'Large', data: { blob: randomBytes(50_000).toString('hex') } });
    await store.append('s-large', 0, [large(), large(), large()], opts);
    await readWhenVisible(3, store, start);
    // A cap below one event's size: each read still takes one, so a reader always moves on.
    const first = await store.readAll(start, { maxBytes: 1 });
    expect([first.events.length, first.more]).toEqual([1, true]);
    const rest = await store.readAll(checkpointOf(first.events[0]!), { maxBytes: 1 });
    expect([rest.events.length, rest.more]).toEqual([1, true]);
    const last = await store.readAll(checkpointOf(rest.events[0]!), { maxBytes: 1 });
    expect([last.events.length, last.more]).toEqual([1, false]);
    // Without the cap in the way the three come in one read, which says nothing follows.
    const whole = await store.readAll(start);
    expect([whole.events.map((e) => e.type), whole.more]).toEqual([['Large', 'Large', 'Large'], false]);
  });

  it('orders by commit (transaction, position) and filters by organization', async () => {
    const start = await tail();
    await store.append('s-org-x', 0, [{ type: 'X', data: {} }], { ...opts, organizationId: 'org-x' });
    await store.append('s-org-y', 0, [{ type: 'Y', data: {} }], { ...opts, organizationId: 'org-y' });
    expect((await readWhenVisible(1, store, start, { organizationId: 'org-y' })).map((e) => e.type)).toEqual(['Y']);
    expect((await readWhenVisible(2, store, start)).map((e) => e.type)).toEqual(['X', 'Y']);
  });
});

describe('inline projections', () => {
  const counter: Projection = {
    name: 'inline_counter',
    mode: 'inline',
    handles: ['Counted', 'Exploded'],
    tables: ['inline_counter'],
    async apply(q, event) {
      if (event.type === 'Exploded') throw new Error('projection failed');
      await q.query('INSERT INTO inline_counter (stream_id, n) VALUES ($1, 1) ON CONFLICT (stream_id) DO UPDATE SET n = inline_counter.n + 1', [event.streamId]);
    },
  };

  beforeAll(() => db.pool.query('CREATE TABLE inline_counter (stream_id text PRIMARY KEY, n int NOT NULL)'));

  it('writes the read model in the append transaction, so it is readable as soon as append returns', async () => {
    const withInline = new EventStore(db.pool, 'unused', [counter]);
    await withInline.append('s-inline', 0, [{ type: 'Counted', data: {} }, { type: 'Other', data: {} }, { type: 'Counted', data: {} }], opts);
    const { rows } = await db.pool.query('SELECT n FROM inline_counter WHERE stream_id = $1', ['s-inline']);
    expect(rows[0]?.n).toBe(2);
  });

  it('rolls the events back when the projection fails', async () => {
    const withInline = new EventStore(db.pool, 'unused', [counter]);
    await expect(withInline.append('s-inline-fail', 0, [{ type: 'Counted', data: {} }, { type: 'Exploded', data: {} }], opts)).rejects.toThrow('projection failed');
    expect(await withInline.readStream('s-inline-fail')).toEqual([]);
    const { rows } = await db.pool.query('SELECT n FROM inline_counter WHERE stream_id = $1', ['s-inline-fail']);
    expect(rows).toEqual([]);
  });
});

function checkpointOf(event: { transactionId: string; globalPosition: number }) {
  return { transactionId: event.transactionId, globalPosition: event.globalPosition };
}

async function tail() {
  const { rows } = await db.pool.query(
    `SELECT transaction_id::text AS t, global_position AS p FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
  );
  return rows[0] ? { transactionId: rows[0].t as string, globalPosition: Number(rows[0].p) } : START;
}
