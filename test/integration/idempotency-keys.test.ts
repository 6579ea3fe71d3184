import { inTransaction } from '../../src/database/pool';
import { ERROR_STATUS } from '../../src/http/error-status';
import { claimIdempotencyKey, claimIdempotencyKeys, IdempotencyConflict, recordedAnswer, type IdempotencyScope } from '../../src/idempotency/idempotency-keys';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { waitUntilBlocked } from '../support/locks';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('idempotency_keys', 20);
});
afterAll(() => db.drop());

const DAY = 24 * 60 * 60 * 1000;
const expiring: IdempotencyScope = { name: 'test-expiring', retentionMs: DAY, conflictMessage: 'reused with another body' };
const forever: IdempotencyScope = { name: 'test-forever', retentionMs: null, conflictMessage: 'reused with another body' };
const request = (key: string, requestHash = 'h-1', organizationId = 'org-1') => ({ organizationId, key, requestHash });

/** Claims in a transaction of its own, as a command would. */
const claim = (scope: IdempotencyScope, req: ReturnType<typeof request>, result: unknown) =>
  inTransaction(db.pool, (client) => claimIdempotencyKey(client, scope, req, result));
const rowsOf = async (key: string) =>
  (await db.pool.query('SELECT organization_id, scope, request_hash, result FROM idempotency_keys WHERE key = $1 ORDER BY organization_id, scope', [key])).rows;

describe('idempotency keys', () => {
  it('replays the recorded result for the same key and body', async () => {
    expect(await claim(expiring, request('replay'), { runId: 'r-1', order: [2, 1] })).toEqual({ kind: 'claimed' });
    expect(await claim(expiring, request('replay'), { runId: 'r-2' })).toEqual({ kind: 'duplicate', result: { runId: 'r-1', order: [2, 1] } });
    expect(await recordedAnswer(db.pool, expiring, request('replay'))).toEqual({ runId: 'r-1', order: [2, 1] });
    expect(await recordedAnswer(db.pool, expiring, request('never-used'))).toBeUndefined();
  });

  it('keeps the recorded result byte for byte, key order included', async () => {
    await claim(expiring, request('order'), { z: 1, a: 2, version: 3 });
    const replayed = await claim(expiring, request('order'), {});
    expect(replayed.kind === 'duplicate' && JSON.stringify(replayed.result)).toBe('{"z":1,"a":2,"version":3}');
  });

  it('answers another body under the same key with 409 idempotency_conflict and records nothing', async () => {
    await claim(expiring, request('conflict', 'h-a'), { n: 1 });
    const reuse = claim(expiring, request('conflict', 'h-b'), { n: 2 });
    await expect(reuse).rejects.toBeInstanceOf(IdempotencyConflict);
    await expect(reuse).rejects.toMatchObject({ code: 'idempotency_conflict', message: 'reused with another body' });
    expect(ERROR_STATUS.idempotency_conflict).toBe(409);
    await expect(recordedAnswer(db.pool, expiring, request('conflict', 'h-b'))).rejects.toMatchObject({ code: 'idempotency_conflict' });
    expect(await rowsOf('conflict')).toEqual([{ organization_id: 'org-1', scope: 'test-expiring', request_hash: 'h-a', result: { n: 1 } }]);
  });

  it('scopes a key per organization and per scope', async () => {
    await claim(expiring, request('shared', 'h-a'), 1);
    expect(await claim(forever, request('shared', 'h-b'), 2)).toEqual({ kind: 'claimed' });
    expect(await claim(expiring, request('shared', 'h-c', 'org-2'), 3)).toEqual({ kind: 'claimed' });
    expect((await rowsOf('shared')).map((r) => r.result)).toEqual([1, 2, 3]);
  });

  it('replaces an expired key (another body is welcome) and prunes the organization’s other expired keys', async () => {
    await claim(expiring, request('old', 'h-a'), 'first');
    await claim(expiring, request('stale-neighbour'), 'x');
    await claim(forever, request('kept-forever'), 'y');
    await db.pool.query(`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key IN ('old', 'stale-neighbour')`);
    expect(await recordedAnswer(db.pool, expiring, request('old', 'h-a'))).toBeUndefined();

    expect(await claim(expiring, request('old', 'h-b'), 'second')).toEqual({ kind: 'claimed' });
    expect(await rowsOf('old')).toEqual([{ organization_id: 'org-1', scope: 'test-expiring', request_hash: 'h-b', result: 'second' }]);
    expect(await rowsOf('stale-neighbour')).toEqual([]);
    expect(await rowsOf('kept-forever')).toHaveLength(1);
    const { rows } = await db.pool.query(`SELECT expires_at > now() + interval '23 hours' AS fresh FROM idempotency_keys WHERE key = 'old'`);
    expect(rows).toEqual([{ fresh: true }]);
  });

  it('frees a key whose transaction rolled back', async () => {
    await expect(
      inTransaction(db.pool, async (client) => {
        await claimIdempotencyKey(client, expiring, request('rolled-back'), 'lost');
        throw new Error('the append failed');
      }),
    ).rejects.toThrow('the append failed');
    expect(await claim(expiring, request('rolled-back'), 'kept')).toEqual({ kind: 'claimed' });
  });

  it('lets exactly one of 8 concurrent claims of a key win; the others replay its result', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        inTransaction(db.pool, async (client) => {
          const claimed = await claimIdempotencyKey(client, expiring, request('race'), { winner: i });
          // Hold the transaction open, so the claims overlap.
          await client.query('SELECT pg_sleep(0.05)');
          return { i, claimed };
        }),
      ),
    );
    const winners = outcomes.filter((o) => o.claimed.kind === 'claimed');
    expect(winners).toHaveLength(1);
    const winner = winners[0]!.i;
    for (const o of outcomes) if (o.i !== winner) expect(o.claimed).toEqual({ kind: 'duplicate', result: { winner } });
    expect(await rowsOf('race')).toEqual([{ organization_id: 'org-1', scope: 'test-expiring', request_hash: 'h-1', result: { winner } }]);
  });

  it('claims a batch of keys in key order, so it cannot deadlock with another claimer of the same keys', async () => {
    // Another transaction takes the same two keys in key order, one statement each; the batch
    // lists them the other way round (as two groups of webhook deliveries may).
    const other = await db.pool.connect();
    const batch = await db.pool.connect();
    try {
      await other.query('BEGIN');
      await claimIdempotencyKeys(other, forever, [request('order-a')], ['other']);
      const batchPid = (await batch.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await batch.query('BEGIN');
      const claimed = claimIdempotencyKeys(batch, forever, [request('order-b'), request('order-a')], ['batch', 'batch']);
      await waitUntilBlocked(db.pool, batchPid);
      await claimIdempotencyKeys(other, forever, [request('order-b')], ['other']); // a deadlock here before
      await other.query('COMMIT');
      expect(await claimed).toEqual([
        { kind: 'duplicate', result: 'other' },
        { kind: 'duplicate', result: 'other' },
      ]);
      await batch.query('COMMIT');
    } finally {
      other.release();
      batch.release();
    }
  });
});
