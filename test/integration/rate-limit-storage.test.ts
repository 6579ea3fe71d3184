import { Pool } from 'pg';
import { createPool } from '../../src/database/pool';
import { leaseSize, PgThrottlerStorage } from '../../src/rate-limit/pg-throttler.storage';
import { createTestDatabase, type TestDatabase } from '../support/database';

const DAY_MS = 24 * 60 * 60 * 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let db: TestDatabase;
let otherPool: Pool;
/** Two storages on two pools: two API instances sharing one database. */
let a: PgThrottlerStorage;
let b: PgThrottlerStorage;

beforeAll(async () => {
  db = await createTestDatabase('rate_limit_storage', 20);
  otherPool = createPool(db.url, db.schema, 20);
  a = new PgThrottlerStorage(db.pool);
  b = new PgThrottlerStorage(otherPool);
});
afterAll(async () => {
  await otherPool.end();
  await db.drop();
});

describe('PgThrottlerStorage', () => {
  it('counts concurrent increments from many connections of two instances exactly', async () => {
    // A day-long window: no request is earned back while the test runs, so counts are exact.
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).increment('exact', DAY_MS, 1000)));
    expect(results.every((r) => r.admitted)).toBe(true);
    expect(new Set(results.map((r) => r.remaining)).size).toBe(200); // each saw a distinct count
    expect(Math.min(...results.map((r) => r.remaining))).toBe(800);
    const next = await a.increment('exact', DAY_MS, 1000);
    expect(next).toMatchObject({ admitted: true, remaining: 799, totalHits: 201, isBlocked: false });
  });

  it('admits exactly the limit when many more requests race for it', async () => {
    const results = await Promise.all(Array.from({ length: 120 }, (_, i) => (i % 2 ? a : b).increment('race', DAY_MS, 50)));
    expect(results.filter((r) => r.admitted)).toHaveLength(50);
    const refused = results.filter((r) => !r.admitted);
    expect(refused).toHaveLength(70);
    for (const r of refused) {
      expect(r).toMatchObject({ isBlocked: true, remaining: 0, totalHits: 51 });
      expect(r.retryAfterMs).toBeGreaterThan(0);
      expect(r.timeToBlockExpire).toBe(Math.ceil(r.retryAfterMs / 1000));
    }
  });

  it('counts down remaining and reports reset and retry delays', async () => {
    const first = await a.increment('countdown', 60_000, 3);
    expect(first).toMatchObject({ admitted: true, remaining: 2 });
    expect(first.resetMs).toBeGreaterThan(0);
    expect(first.resetMs).toBeLessThanOrEqual(20_000);
    expect((await b.increment('countdown', 60_000, 3)).remaining).toBe(1);
    expect((await a.increment('countdown', 60_000, 3)).remaining).toBe(0);
    const refused = await b.increment('countdown', 60_000, 3);
    expect(refused.admitted).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(15_000); // one request earned back every 20 s
    expect(refused.retryAfterMs).toBeLessThanOrEqual(20_000);
    expect(refused.timeToExpire).toBe(Math.ceil(refused.resetMs / 1000));
  });

  it('gives the whole budget back once the window has passed', async () => {
    for (let i = 0; i < 2; i++) expect((await a.increment('reset', 300, 2)).admitted).toBe(true);
    expect((await b.increment('reset', 300, 2)).admitted).toBe(false);
    await sleep(400);
    const again = await b.increment('reset', 300, 2);
    expect(again).toMatchObject({ admitted: true, remaining: 1 });
  });

  it('keeps keys independent', async () => {
    for (let i = 0; i < 2; i++) await a.increment('tenant-a', DAY_MS, 2);
    expect((await a.increment('tenant-a', DAY_MS, 2)).admitted).toBe(false);
    expect(await a.increment('tenant-b', DAY_MS, 2)).toMatchObject({ admitted: true, remaining: 1 });
  });

  it('sweeps only buckets that hold a full budget', async () => {
    await a.increment('sweep-live', DAY_MS, 5);
    await a.increment('sweep-spent', 50, 5);
    await sleep(100);
    await a.sweep();
    const keys = await db.pool.query<{ key: string }>(`SELECT key FROM rate_limit_buckets WHERE key LIKE 'sweep-%'`);
    expect(keys.rows.map((r) => r.key)).toEqual(['sweep-live']);
    expect(await a.increment('sweep-live', DAY_MS, 5)).toMatchObject({ remaining: 3 });
  });

  it('spends a busy budget in leases: a statement per lease, never more than the budget across two instances', async () => {
    // 100 requests/s: a lease asks for what 100 ms earns (10), so 1,500 requests at once cost
    // about a tenth as many statements. What the budget earns back while they run is admitted too.
    const [limit, windowMs] = [1000, 10_000];
    expect(leaseSize(limit, windowMs)).toBe(10);
    const statements = [jest.spyOn(db.pool, 'query'), jest.spyOn(otherPool, 'query')];
    const began = performance.now();
    let results: Awaited<ReturnType<PgThrottlerStorage['increment']>>[];
    try {
      results = await Promise.all(Array.from({ length: 1500 }, (_, i) => (i % 2 ? a : b).increment('leased', windowMs, limit)));
    } finally {
      statements.forEach((spy) => spy.mockRestore());
    }
    const earned = Math.ceil(((performance.now() - began) * limit) / windowMs);
    const admitted = results.filter((r) => r.admitted).length;
    expect(admitted).toBeLessThanOrEqual(limit + earned);
    // At most one lease per instance is left unused.
    expect(admitted).toBeGreaterThanOrEqual(limit - 2 * leaseSize(limit, windowMs));
    expect(statements.reduce((n, spy) => n + spy.mock.calls.length, 0)).toBeLessThan(1500 / 4);
    for (const refused of results.filter((r) => !r.admitted)) expect(refused.retryAfterMs).toBeGreaterThan(0);
  });

  it('serves a busy budget polled about once a second from one lease: no statement per poll', async () => {
    const [limit, windowMs] = [60_000, 60_000]; // 1,000 a second: a lease of 100
    expect(leaseSize(limit, windowMs)).toBe(100);
    const spy = jest.spyOn(db.pool, 'query');
    try {
      for (let i = 0; i < 3; i++) {
        if (i > 0) await sleep(1_100);
        expect((await a.increment('polled', windowMs, limit)).admitted).toBe(true);
      }
      expect(spy.mock.calls).toHaveLength(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('keeps a small budget at one statement per request, exact to the request', async () => {
    expect(leaseSize(600, 60_000)).toBe(1);
    const spy = jest.spyOn(db.pool, 'query');
    try {
      for (let i = 0; i < 3; i++) await a.increment('small', 60_000, 600);
      expect(spy.mock.calls).toHaveLength(3);
    } finally {
      spy.mockRestore();
    }
    expect((await b.increment('small', 60_000, 600)).remaining).toBe(596);
  });
});

describe('PgThrottlerStorage lifecycle', () => {
  it('keeps one sweep timer however often Nest initialises it, and none once destroyed', async () => {
    jest.useFakeTimers();
    try {
      const storage = new PgThrottlerStorage(db.pool);
      // Nest initialises the instance once per module that provides it: ours and the throttler's.
      storage.onModuleInit();
      storage.onModuleInit();
      expect(jest.getTimerCount()).toBe(1);
      await storage.onModuleDestroy();
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
