import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { auditSealerProjection } from '../../src/audit/sealer.projection';
import { AuditSigningKeyProvider } from '../../src/audit/audit-signing-key';
import { CheckpointerService } from '../../src/audit/checkpointer.service';
import { verifyOrganization } from '../../src/audit/audit-verify';
import type { Config } from '../../src/config/config';
import { EventStore } from '../../src/event-store/event-store';
import { SubscriptionRunner } from '../../src/event-store/subscription-runner';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { systemMetadata } from '../support/metadata';
import { killWorker, spawnWorker, type WorkerProcess } from '../support/run-processes';

// The sealer (issue 11): gap-free per-organization sequences under concurrent writers that
// never take an advisory lock, two sealers where only one advances and a killed one leaves
// nothing to duplicate, and a transaction held open across sealing passes.

let db: TestDatabase;
let store: EventStore;
const signingKey = randomBytes(32).toString('hex');
const keys = new AuditSigningKeyProvider({ auditSigningKey: signingKey, auditTrustedKeys: [], dataDir: '.thodare' } as unknown as Config);

beforeAll(async () => {
  db = await createTestDatabase('audit_sealer', 20);
  store = new EventStore(db.pool, `${db.schema}.events`);
});
afterAll(() => db.drop());

// The deployed sealer, in batches of 50 rather than its 5,000: the 16 writers below outpace it, so
// its passes are several full batches and each organization's sequence continues across batch
// boundaries while appends go on (at 5,000 not one batch filled, even with 8,000 events).
const BATCH = 50;
const sealer = (pool: Pool = db.pool) => new SubscriptionRunner(pool, store, [{ ...auditSealerProjection, batchSize: BATCH }], undefined, { pollIntervalMs: 20 });

/** Each organization's sealed sequences, in order. */
async function sequences(organizationId: string): Promise<number[]> {
  const { rows } = await db.pool.query<{ sequence: string }>('SELECT sequence FROM audit_seals WHERE organization_id = $1 ORDER BY sequence', [organizationId]);
  return rows.map((row) => Number(row.sequence));
}

/** Events per writer: 1,600 in all, many times the sealer's batch, with all 16 writers interleaved throughout. */
const PER_WRITER = 100;
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const eventCount = async (organizationId: string) => Number((await db.pool.query('SELECT count(*) AS n FROM events WHERE organization_id = $1', [organizationId])).rows[0].n);

async function appendMany(organizationId: string, streams: number, perStream: number): Promise<void> {
  for (let s = 0; s < streams; s++) {
    const stream = `bulk-${organizationId}-${s}-${randomBytes(3).toString('hex')}`;
    await store.append(stream, 0, Array.from({ length: perStream }, (_, i) => ({ type: 'Bulk', data: { i } })), { organizationId, metadata: systemMetadata });
  }
}

it('16 concurrent writers × 100 events over 3 organizations: gap-free sequences, verify ok, no writer holds an advisory lock', async () => {
  const orgs = ['org-a', 'org-b', 'org-c'].map((o) => `${o}-${randomBytes(3).toString('hex')}`);
  const writerPool = new Pool({ connectionString: db.url, max: 16, options: `-c search_path=${db.schema}`, application_name: `audit-writer-${db.schema}` });
  const writers = new EventStore(writerPool, `${db.schema}.events`);
  const runner = sealer();
  await runner.start();
  const checkpointer = new CheckpointerService(db.pool, { auditCheckpointIntervalMs: 1 } as Config, keys);
  let writing = true;
  let advisoryLocksSeen = 0;
  let samples = 0;
  const sampler = (async () => {
    while (writing) {
      const { rows } = await db.pool.query(
        `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND a.application_name = $1`,
        [`audit-writer-${db.schema}`],
      );
      advisoryLocksSeen += rows[0].n;
      samples += 1;
      await checkpointer.checkpointDue(0); // checkpoints taken while writers write
    }
  })();
  try {
    await Promise.all(
      Array.from({ length: 16 }, async (_, w) => {
        for (let i = 0; i < PER_WRITER; i++) {
          await writers.append(`writer-${w}-${i}`, 0, [{ type: 'Wrote', data: { w, i } }], { organizationId: orgs[w % 3] as string, metadata: systemMetadata });
        }
      }),
    );
  } finally {
    writing = false;
    await sampler;
    await writerPool.end();
  }
  // Drained until every event is sealed: another session's open transaction may hold the horizon back for a moment.
  await waitFor(async () => (await runner.drain(), Number((await db.pool.query('SELECT count(*) AS n FROM audit_seals WHERE organization_id = ANY($1)', [orgs])).rows[0].n) === 16 * PER_WRITER));
  await runner.stop();
  await checkpointer.checkpointDue(0);
  expect(samples).toBeGreaterThan(0);
  expect(advisoryLocksSeen).toBe(0);
  const trusted = await keys.trustedKeys();
  for (const [index, org] of orgs.entries()) {
    const expected = (index === 0 ? 6 : 5) * PER_WRITER; // writers 0,3,…,15 → org a; the others split evenly
    expect(await eventCount(org)).toBe(expected);
    expect(await sequences(org)).toEqual(oneTo(expected));
    const report = await verifyOrganization(db.pool, org, trusted);
    expect(report).toMatchObject({ ok: true, checked: expected, sealedThrough: expected });
    expect(report.lastCheckpoint?.sequence).toBe(expected);
  }
});

it('two sealer processes: one advances while the other waits; killed mid-batch, the other resumes without duplicates', async () => {
  const org = `org-kill-${randomBytes(3).toString('hex')}`;
  await appendMany(org, 30, 100);
  const workers: WorkerProcess[] = [];
  const env = { THODARE_AUDIT_SIGNING_KEY: signingKey, THODARE_POLL_INTERVAL_MS: '50' };
  try {
    const locker = await db.pool.connect();
    try {
      // Hold the seal head: the first sealer to read it blocks there, mid-batch, with the
      // projection's lock taken and its events already read.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE audit_heads IN ACCESS EXCLUSIVE MODE');
      const first = spawnWorker(db, env);
      workers.push(first);
      await first.ready;
      // The first worker's sealer, reading the heads: other test files' sealers share the server
      // (one whose schema is being dropped waits on its audit_heads too), and the worker's audit
      // checkpointer, reading them as well, may be waiting beside it.
      const blocked = `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT organization_id, sequence, chain, merkle_frontier FROM audit_heads%' AND application_name = $1`;
      await waitFor(async () => (await db.pool.query(blocked, [first.applicationName])).rowCount === 1);
      const second = spawnWorker(db, env);
      workers.push(second);
      await second.ready;
      // The second runs its passes (its other projections catch up) but cannot seal: the first holds the sealer.
      await waitFor(async () => (await db.pool.query(`SELECT 1 FROM projection_checkpoints WHERE name = 'event_counts' AND global_position > 0`)).rowCount === 1);
      expect(Number((await db.pool.query('SELECT count(*) AS n FROM audit_seals WHERE organization_id = $1', [org])).rows[0].n)).toBe(0);
      await killWorker(first);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    const total = await eventCount(org);
    await waitFor(async () => (await sequences(org)).length === total);
    expect(await sequences(org)).toEqual(oneTo(total));
    expect(Number((await db.pool.query('SELECT count(*) - count(DISTINCT global_position) AS n FROM audit_seals')).rows[0].n)).toBe(0);
  } finally {
    // Also when a step above failed: a worker left running would outlive the test file.
    await Promise.all(workers.map(killWorker));
  }
});

it('a transaction open across two sealing passes is sealed next when it commits, nothing skipped', async () => {
  const org = `org-late-${randomBytes(3).toString('hex')}`;
  await appendMany(org, 1, 3);
  const runner = sealer();
  await waitFor(async () => (await runner.drain(), (await sequences(org)).length === 3));
  const late = await db.pool.connect();
  try {
    await late.query('BEGIN');
    await store.append(`late-${org}`, 0, [{ type: 'Late', data: {} }], { organizationId: org, metadata: systemMetadata, client: late });
    await store.append(`early-${org}`, 0, [{ type: 'Early', data: {} }], { organizationId: org, metadata: systemMetadata });
    await runner.drain();
    await runner.drain();
    expect(await sequences(org)).toEqual([1, 2, 3]); // the committed Early waits behind the open transaction
    await late.query('COMMIT');
  } finally {
    late.release();
  }
  await waitFor(async () => (await runner.drain(), (await sequences(org)).length === 5));
  const { rows } = await db.pool.query<{ sequence: string; type: string }>(
    'SELECT s.sequence, e.type FROM audit_seals s JOIN events e USING (global_position) WHERE s.organization_id = $1 ORDER BY s.sequence',
    [org],
  );
  expect(rows.map((r) => [Number(r.sequence), r.type])).toEqual([[1, 'Bulk'], [2, 'Bulk'], [3, 'Bulk'], [4, 'Late'], [5, 'Early']]);
  expect(await verifyOrganization(db.pool, org, await keys.trustedKeys())).toMatchObject({ ok: true, checked: 5 });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
