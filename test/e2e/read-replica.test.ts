import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { analyticsSchemaName } from '../../src/analytics/analytics-schema';
import { grantAnalytics } from '../../src/analytics/analytics-grants';
import { verifyBundle } from '../../src/audit/bundle/verify-bundle';
import { migrate } from '../../src/database/migrate';
import { createPool } from '../../src/database/pool';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { orgEvents, waitSealedAndSigned } from '../support/audit';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';
import { startPrimaryWithReplica, type PrimaryWithReplica } from '../support/replica-postgres';

// Audit exports and analysts on a streaming replica (docs/scaling.md, "Read replicas"): the
// deployment's own primary and hot standby (never the shared server), the API pointed at the
// replica with THODARE_READ_REPLICA_URL.

const SCHEMA = 'test_read_replica';
let cluster: PrimaryWithReplica;
let app: TestApp;
let owner: SignedUp;
let dir: string;

beforeAll(async () => {
  cluster = await startPrimaryWithReplica('read_replica');
  await migrate(cluster.primary.url, SCHEMA);
  const pool = createPool(cluster.primary.url, SCHEMA, 10);
  app = await startTestApp(
    'read_replica',
    { THODARE_READ_REPLICA_URL: cluster.replicaUrl, THODARE_AUDIT_SIGNING_KEY: randomBytes(32).toString('hex'), THODARE_AUDIT_CHECKPOINT_INTERVAL_MS: '100' },
    { api: true, worker: true },
    { url: cluster.primary.url, schema: SCHEMA, pool, drop: () => pool.end() },
  );
  dir = mkdtempSync(join(tmpdir(), 'thodare-replica-'));
  owner = await signUp(app);
  const workflowId = await createWorkflow(app, owner.headers, [add('hook', 'trigger_manual'), add('shape', 'transform', { template: 'shaped {{trigger.n}}' }), connect('hook', 'shape')]);
  for (let n = 0; n < 3; n += 1) {
    const started = await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: owner.headers, body: { input: { n } } });
    expect((await waitForRun(app, owner.headers, started.body.runId)).status).toBe('completed');
  }
  await waitSealedAndSigned(app, owner, 30_000);
  await cluster.caughtUp();
}, 120_000);

afterAll(async () => {
  await app?.close();
  await app?.db.drop();
  await cluster?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The owner's organization's audit bundle as the API exports it, verified offline: its events, and where it was read. */
async function exported(name: string): Promise<{ organizationId: string; events: number; readFrom: string | null }> {
  const response = await fetch(`${app.url}/api/audit/export`, { headers: owner.headers });
  expect(response.status).toBe(200);
  const path = join(dir, name);
  writeFileSync(path, Buffer.from(await response.arrayBuffer()));
  const verdict = verifyBundle(path);
  if (!verdict.ok) throw new Error(`the bundle does not verify: ${JSON.stringify(verdict)}`);
  return { organizationId: verdict.organizationId, events: verdict.events, readFrom: response.headers.get('x-thodare-read-from') };
}

it('exports the audit bundle from the replica, and it verifies', async () => {
  expect(await exported('bundle.tar')).toEqual({ organizationId: owner.organizationId, events: await orgEvents(app, owner.organizationId), readFrom: 'replica' });
});

it('exports what the replica has replayed: with its replay paused, the bundle ends at the last seal it has, and verifies', async () => {
  const replica = new Client({ connectionString: cluster.replicaUrl });
  await replica.connect();
  try {
    const before = await orgEvents(app, owner.organizationId);
    await replica.query('SELECT pg_wal_replay_pause()');
    while ((await replica.query("SELECT pg_get_wal_replay_pause_state() = 'paused' AS paused")).rows[0].paused !== true) await new Promise((r) => setTimeout(r, 20));
    await createWorkflow(app, owner.headers, [add('later', 'transform', { template: 'later' })]);
    await waitSealedAndSigned(app, owner, 30_000);
    expect(await orgEvents(app, owner.organizationId)).toBeGreaterThan(before);
    expect((await exported('paused.tar')).events).toBe(before);
    await replica.query('SELECT pg_wal_replay_resume()');
    await cluster.caughtUp();
    expect((await exported('resumed.tar')).events).toBe(await orgEvents(app, owner.organizationId));
  } finally {
    await replica.end();
  }
});

it("serves the analytics views to an analyst's role on the replica as on the primary", async () => {
  const role = `analyst_${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  await grantAnalytics(app.db.pool, SCHEMA, { role, password, org: owner.organizationId });
  await cluster.caughtUp();
  const asAnalyst = async (url: string) => {
    const target = new URL(url);
    target.username = role;
    target.password = password;
    const client = new Client({ connectionString: target.toString() });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT run_id, status, pg_is_in_recovery() AS standby FROM "${analyticsSchemaName(SCHEMA)}".runs ORDER BY run_id`);
      return rows;
    } finally {
      await client.end();
    }
  };
  const onPrimary = await asAnalyst(cluster.primary.url);
  const onReplica = await asAnalyst(cluster.replicaUrl);
  expect(onPrimary).toHaveLength(3);
  expect(onReplica.map(({ run_id, status }) => ({ run_id, status }))).toEqual(onPrimary.map(({ run_id, status }) => ({ run_id, status })));
  expect(onReplica.every((row) => row.standby === true)).toBe(true);
});

it('answers 503 read_replica_unavailable for an export while the replica is down, and the rest of the API as before', async () => {
  await cluster.stopReplica();
  const refused = await app.request('GET', '/api/audit/export', { headers: owner.headers });
  expect(refused.status).toBe(503);
  expect(refused.body.error).toBe('read_replica_unavailable');
  expect(refused.headers.get('retry-after')).toBe('5');
  expect((await app.request('GET', '/api/audit/checkpoints', { headers: owner.headers })).status).toBe(200);
  expect((await app.request('GET', '/api/audit/verify', { headers: owner.headers })).body.ok).toBe(true);
});
