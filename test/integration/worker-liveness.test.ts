import type { PoolClient } from 'pg';
import { createPool } from '../../src/database/pool';
import { WORKER_LOCK_KEY_SQL } from '../../src/run-queue/run-claims';
import { WorkerLiveness } from '../../src/worker/worker-liveness';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('worker_liveness');
});

afterAll(async () => {
  await db.drop();
});

/** The backend waiting to take an advisory lock with `pg_advisory_lock` (only the liveness lock here). */
async function waitingLockSession(): Promise<number> {
  for (let i = 0; i < 500; i += 1) {
    const { rows } = await db.pool.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE '%pg_advisory_lock%'`,
    );
    if (rows[0]) return rows[0].pid;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('no session waited for the liveness lock');
}

describe('worker liveness', () => {
  // Found by cutting the app's connections at random under load: a liveness connection cut while
  // it took its lock stayed checked out of the pool for good, and the app's close() then waited
  // for it forever (a pool ends once every client is back).
  it('a connection cut while it takes the lock goes back to the pool, and the pool can end', async () => {
    const pool = createPool(db.url, db.schema, 2);
    const holder: PoolClient = await db.pool.connect();
    await holder.query(`SELECT pg_advisory_lock(${WORKER_LOCK_KEY_SQL('$1')})`, ['cut-owner']);
    const outages: unknown[] = [];
    const liveness = new WorkerLiveness(pool, 'cut-owner', () => undefined, (error) => {
      outages.push(error);
      return new Promise<void>(() => undefined); // the database stays "away" for this test
    });
    try {
      const started = liveness.start();
      const pid = await waitingLockSession();
      await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
      await started;

      expect(outages).toHaveLength(1);
      expect(pool.totalCount - pool.idleCount).toBe(0);
    } finally {
      liveness.stop();
      holder.release();
      if (pool.totalCount === pool.idleCount) await pool.end();
    }
  });

  it('takes the lock, lists the worker, and gives the lock up when stopped', async () => {
    const pool = createPool(db.url, db.schema, 2);
    const liveness = new WorkerLiveness(pool, 'live-owner', () => undefined, () => Promise.resolve());
    const probe = await db.pool.connect();
    try {
      await liveness.start();
      const held = await probe.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${WORKER_LOCK_KEY_SQL('$1')}) AS locked`, ['live-owner']);
      expect(held.rows[0]!.locked).toBe(false);
      const listed = await probe.query('SELECT 1 FROM workers WHERE owner = $1', ['live-owner']);
      expect(listed.rowCount).toBe(1);

      liveness.stop();
      await pool.end();
      // The lock goes when the server has ended the closed connection's backend, a moment after
      // the client closed it: wait for it, within the lock timeout (which fails the test).
      await probe.query(`SET lock_timeout = '5s'`);
      const free = await probe.query(`SELECT pg_advisory_lock(${WORKER_LOCK_KEY_SQL('$1')})`, ['live-owner']);
      expect(free.rowCount).toBe(1);
    } finally {
      await probe.query('RESET lock_timeout');
      await probe.query('SELECT pg_advisory_unlock_all()');
      probe.release();
    }
  });
});
