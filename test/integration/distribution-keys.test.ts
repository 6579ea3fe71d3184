import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { startTestApp, type TestApp } from '../support/app';
import { signUp } from '../support/auth';
import { applyNextMigrations, createTestDatabase, nextMigrationUps, type TestDatabase } from '../support/database';
import { add, connect, createWorkflow, waitForLogs, waitForRun } from '../support/run-api';

// The schema on its way to being distributed by organization on an existing distributed engine
// (docs/scaling.md, "Past one database"): Citus takes a table with `organization_id` as a
// distributed table only when every primary key and unique index holds that column, and a
// foreign key only where one side is a reference table. A table without the column is one of the
// deployment's own (replicated or kept on the coordinator), named below with the reason. The keys
// that do not hold it yet are widened by `migrations/next/distribution-keys.sql`, which the next
// release numbers, with the run append function's conflict target: this release's writes name
// constraints, not columns, so they hold under both.

/** Tables with no `organization_id` to distribute by, and why. docs/scaling.md lists the same. */
const REFERENCE_TABLES: Record<string, string> = {
  users: 'identity, read by credential before any organization is known',
  sessions: 'identity, read by credential before any organization is known',
  organizations: 'the organizations themselves',
  analytics_grants: 'Postgres roles are global to the cluster; a grant may cover every organization',
  analytics_contract: "the deployment's installed analytics contract",
  audit_keys: "the deployment's signing keys",
  projection_checkpoints: "the deployment's read-model positions",
  projection_parked_events: "the deployment's read-model failures",
  rate_limit_buckets: "the deployment's shared rate budgets",
  workers: "the deployment's live workers",
  pgmigrations: "the deployment's applied migrations",
};
const referenceTables = Object.keys(REFERENCE_TABLES);

/** The keys the next release's migration widens (its `ADD CONSTRAINT` and `CREATE UNIQUE INDEX` names). */
function keysWidenedNext(): string[] {
  const up = nextMigrationUps().get('distribution-keys.sql') ?? '';
  return [...up.matchAll(/(?:ADD CONSTRAINT|CREATE UNIQUE INDEX) (\w+)/g)].map((m) => m[1]!).sort();
}

async function tablesWithoutOrganization(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ table_name: string }>(
    `SELECT c.relname AS table_name FROM pg_class c
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
       AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'organization_id' AND a.attnotnull AND NOT a.attisdropped)
     ORDER BY 1`,
  );
  return rows.map((r) => r.table_name);
}

/** Unique indexes (primary keys included) of the per-organization tables that do not hold `organization_id`. */
async function keysWithoutOrganization(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ index: string }>(
    `SELECT i.relname AS index FROM pg_index x
     JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
     WHERE t.relnamespace = current_schema()::regnamespace AND x.indisunique AND NOT (t.relname = ANY ($1::text[]))
       AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = 'organization_id' AND a.attnum = ANY (x.indkey))
     ORDER BY 1`,
    [referenceTables],
  );
  return rows.map((r) => r.index);
}

let today: TestDatabase;
let widened: TestDatabase;
let app: TestApp;

beforeAll(async () => {
  [today, widened] = await Promise.all([createTestDatabase('distribution_today'), createTestDatabase('distribution_next')]);
  if (process.env.THODARE_TEST_NEXT_MIGRATIONS !== '1') await applyNextMigrations(widened.url, widened.schema);
  app = await startTestApp('distribution_next', {}, { api: true, worker: true }, widened);
});
afterAll(async () => {
  await app?.close();
  await Promise.all([today?.drop(), widened?.drop()]);
});

describe('keys of a schema distributable by organization', () => {
  it("names every table without a NOT NULL organization_id as the deployment's own", async () => {
    expect(await tablesWithoutOrganization(today.pool)).toEqual([...referenceTables].sort());
  });

  it('holds organization_id in every unique key of the other tables once the next release widens the rest', async () => {
    const widenedNext = keysWidenedNext();
    expect(widenedNext.length).toBeGreaterThan(20); // the file was read
    if (process.env.THODARE_TEST_NEXT_MIGRATIONS !== '1') expect(await keysWithoutOrganization(today.pool)).toEqual(widenedNext);
    expect(await keysWithoutOrganization(widened.pool)).toEqual([]);
    expect(await tablesWithoutOrganization(widened.pool)).toEqual([...referenceTables].sort());
  });

  it("has foreign keys only into the deployment's own tables", async () => {
    const { rows } = await today.pool.query<{ target: string }>(
      `SELECT confrelid::regclass::text AS target FROM pg_constraint WHERE connamespace = current_schema()::regnamespace AND contype = 'f'`,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const { target } of rows) expect(referenceTables).toContain(target.replace(/^.*\./, ''));
  });

  it("runs this release's writes against the widened keys", async () => {
    const owner = await signUp(app);
    const headers = owner.headers;
    expect((await app.request('POST', '/api/api-keys', { headers, body: { name: 'k', role: 'admin' } })).status).toBe(201);
    expect((await app.request('POST', '/api/invitations', { headers, body: { email: 'someone@example.test', role: 'viewer' } })).status).toBe(201);
    const workflowId = await createWorkflow(app, headers, [
      add('hook', 'trigger_webhook', {}),
      add('first', 'transform', { template: '{{trigger.body.n}}' }),
      add('nap', 'wait_duration', { durationMs: 10 }),
      add('second', 'transform', { template: 'after {{first.value}}' }),
      connect('hook', 'first'),
      connect('first', 'nap'),
      connect('nap', 'second'),
    ]);
    const hook = (await app.request('GET', `/api/workflows/${workflowId}/webhooks`, { headers })).body.data[0];
    // Started together: a group of new runs goes through the append function in one statement.
    const started = await Promise.all(
      Array.from({ length: 8 }, async (_, n) => {
        const res = await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers, body: { input: { body: { n } } } });
        expect(res.status).toBe(202);
        return res.body.runId as string;
      }),
    );
    const delivered = await fetch(hook.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":99}' });
    expect(delivered.status).toBe(202);
    const runIds = [...started, ((await delivered.json()) as { runId: string }).runId];
    for (const runId of runIds) expect((await waitForRun(app, headers, runId)).status).toBe('completed');
    for (const runId of runIds) expect(await waitForLogs(app, headers, runId, 3)).toHaveLength(3);
    const analytics = async () => (await widened.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM analytics_runs WHERE run_id = ANY ($1)', [runIds])).rows[0]!.n;
    for (let tries = 0; (await analytics()) < runIds.length && tries < 200; tries += 1) await new Promise((r) => setTimeout(r, 50));
    expect(await analytics()).toBe(runIds.length);
    const { rows: parked } = await widened.pool.query('SELECT projection, error FROM projection_parked_events');
    expect(parked).toEqual([]);
  });

  it('is described in docs/scaling.md, table by table', () => {
    const doc = readFileSync(join(__dirname, '../../docs/scaling.md'), 'utf8');
    for (const table of referenceTables) expect(doc).toContain(`\`${table}\``);
  });
});
