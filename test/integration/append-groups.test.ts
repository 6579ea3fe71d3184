import { Client } from 'pg';
import { StreamVersionConflict } from '../../src/event-store/errors';
import { EventStore } from '../../src/event-store/event-store';
import type { Projection } from '../../src/event-store/projection';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { recordStatements } from '../support/statements';

// The group commit of the event store's appends that take more than their insert — inline
// projections or a NOTIFY (src/event-store/append-groups.ts): appends submitted together share a
// transaction, and each still gets its own outcome — a stale or refused append fails alone,
// never its neighbours.

let db: TestDatabase;

async function waitFor(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 10));
}
const opts = { organizationId: 'org-test', metadata: { actor: { type: 'system' as const, id: 'test' } } };

/** An inline projection: each append is then more than one statement. */
const counter: Projection = {
  name: 'grouped_counter',
  mode: 'inline',
  handles: ['Counted', 'Refused'],
  tables: ['grouped_counter'],
  async apply(q, event) {
    if (event.type === 'Refused') throw new Error('projection refused the event');
    await q.query('INSERT INTO grouped_counter (stream_id, n) VALUES ($1, 1) ON CONFLICT (stream_id) DO UPDATE SET n = grouped_counter.n + 1', [event.streamId]);
  },
};

beforeAll(async () => {
  db = await createTestDatabase('append_groups');
  await db.pool.query('CREATE TABLE grouped_counter (stream_id text PRIMARY KEY, n int NOT NULL)');
});
afterAll(async () => db?.drop());

const counted = async (streams: string[]) => {
  const { rows } = await db.pool.query<{ stream_id: string; n: number }>('SELECT stream_id, n FROM grouped_counter WHERE stream_id = ANY($1)', [streams]);
  return new Map(rows.map((row) => [row.stream_id, row.n]));
};

describe('append groups', () => {
  it('writes 30 appends submitted together in one transaction, each with its projection', async () => {
    const store = new EventStore(db.pool, 'unused', [counter]);
    const streams = Array.from({ length: 30 }, (_, i) => `together-${i}`);
    const stop = recordStatements();
    let texts: string[] = [];
    const results = await Promise.all(streams.map((s) => store.append(s, 0, [{ type: 'Counted', data: {} }], opts))).finally(() => (texts = stop()));
    expect(texts.filter((text) => text === 'BEGIN')).toHaveLength(1);
    expect(texts.filter((text) => text === 'COMMIT')).toHaveLength(1);
    expect(results.map((r) => r.nextVersion)).toEqual(Array(30).fill(1));
    expect([...(await counted(streams)).values()]).toEqual(Array(30).fill(1));
  });

  it('fails a stale append and a refused one alone: their neighbours are written', async () => {
    const store = new EventStore(db.pool, 'unused', [counter]);
    await store.append('mixed-stale', 0, [{ type: 'Counted', data: {} }], opts);
    const fine = Array.from({ length: 8 }, (_, i) => `mixed-fine-${i}`);
    const outcomes = await Promise.allSettled([
      ...fine.map((s) => store.append(s, 0, [{ type: 'Counted', data: {} }], opts)),
      store.append('mixed-stale', 0, [{ type: 'Counted', data: {} }], opts),
      store.append('mixed-refused', 0, [{ type: 'Refused', data: {} }], opts),
    ]);
    expect(outcomes.slice(0, 8).map((o) => o.status)).toEqual(Array(8).fill('fulfilled'));
    expect((outcomes[8] as PromiseRejectedResult).reason).toBeInstanceOf(StreamVersionConflict);
    expect(String((outcomes[9] as PromiseRejectedResult).reason)).toContain('projection refused the event');
    expect([...(await counted([...fine, 'mixed-stale', 'mixed-refused'])).entries()].sort()).toEqual([...fine.map((s) => [s, 1]), ['mixed-stale', 1]].sort());
    expect(await store.readStream('mixed-refused')).toEqual([]);
  });

  it('fails every append of a group whose connection is cut mid-transaction, and writes none of them', async () => {
    const store = new EventStore(db.pool, 'unused', [counter]);
    const streams = Array.from({ length: 5 }, (_, i) => `cut-${i}`);
    // The group's first projection write waits on this lock: the group is then mid-transaction,
    // its first event inserted, when its connection is cut.
    const holder = await db.pool.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE grouped_counter IN EXCLUSIVE MODE');
    const outcomes = Promise.allSettled(streams.map((s) => store.append(s, 0, [{ type: 'Counted', data: {} }], opts)));
    // pg_locks, not pg_stat_activity: the holder's transaction would keep its first snapshot of the latter.
    let cut = false;
    while (!cut) {
      const { rows } = await holder.query<{ cut: boolean }>(
        `SELECT pg_terminate_backend(pid) AS cut FROM pg_locks WHERE relation = 'grouped_counter'::regclass AND NOT granted`,
      );
      cut = rows.some((row) => row.cut);
      if (!cut) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await holder.query('ROLLBACK');
    holder.release();
    const settled = await outcomes;
    expect(settled.map((o) => o.status)).toEqual(Array(5).fill('rejected'));
    expect(String((settled[0] as PromiseRejectedResult).reason)).toMatch(/terminat/i);
    for (const s of streams) expect(await store.readStream(s)).toEqual([]);
    expect((await counted(streams)).size).toBe(0);
  });

  it('sends each NOTIFY of appends submitted together, from one commit', async () => {
    const store = new EventStore(db.pool, 'append_groups_wake');
    const listener = new Client({ connectionString: db.url });
    await listener.connect();
    try {
      const heard: string[] = [];
      listener.on('notification', (message) => heard.push(JSON.parse(message.payload!).streamId));
      await listener.query('LISTEN append_groups_wake');
      const streams = Array.from({ length: 5 }, (_, i) => `notified-${i}`);
      const stop = recordStatements();
      let texts: string[] = [];
      await Promise.all(streams.map((s) => store.append(s, 0, [{ type: 'Plain', data: {} }], { ...opts, notify: true }))).finally(() => (texts = stop()));
      expect(texts.filter((text) => text === 'COMMIT')).toHaveLength(1);
      await waitFor(() => heard.length === streams.length);
      expect(heard.sort()).toEqual(streams);
    } finally {
      await listener.end();
    }
  });

  it('writes a lone append as before: one statement without an inline projection, one transaction with one', async () => {
    const store = new EventStore(db.pool, 'unused', [counter]);
    const stop = recordStatements();
    let texts: string[] = [];
    await store.append('lone-notified', 0, [{ type: 'Plain', data: {} }], { ...opts, notify: true });
    await store.append('lone-counted', 0, [{ type: 'Counted', data: {} }], opts).finally(() => (texts = stop()));
    expect(texts.filter((text) => text === 'BEGIN')).toHaveLength(1);
    expect(texts.filter((text) => !['BEGIN', 'COMMIT'].includes(text) && !text.includes('grouped_counter'))).toHaveLength(2);
  });

});
