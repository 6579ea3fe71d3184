import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, type Pool } from 'pg';
import { startTestApp, type TestApp } from '../support/app';
import { signUp } from '../support/auth';
import { migrate } from '../../src/database/migrate';
import { createTestDatabase, undoMigrationsThrough, type TestDatabase } from '../support/database';
import { add, connect, createWorkflow, waitForLogs, waitForRun } from '../support/run-api';

// The schema on its way to being distributed by organization on an existing distributed engine
// (docs/scaling.md, "Past one database"): Citus takes a table with `organization_id` as a
// distributed table only when every primary key and unique index holds that column, and a
// foreign key only where one side is a reference table. A table without the column is one of the
// deployment's own (replicated or kept on the coordinator), named below with the reason.
// Migration 0033 widened the keys that did not hold it, online; the release before it made every
// write name its key's constraint rather than its columns, so writes hold under both keys.

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

const DISTRIBUTION_KEYS = '0033_distribution-keys';

/** The keys 0033 widens: every unique key of a per-organization table, as it was before. */
const KEYS_BEFORE_0033 = [
  'analytics_runs_pkey', 'analytics_step_attempts_key', 'analytics_step_attempts_pkey', 'analytics_waits_pkey', 'analytics_workflow_edits_pkey',
  'api_key_credentials_key_hash_key', 'api_key_credentials_pkey', 'api_keys_pkey', 'audit_seals_global_position_key', 'event_triggers_pkey',
  'events_pkey', 'events_stream_version_unique', 'invitation_tokens_pkey', 'invitation_tokens_token_hash_key', 'invitations_pkey',
  'org_events_pkey', 'run_approvals_pkey', 'run_concurrency_pkey', 'run_event_waits_pkey', 'run_failures_pkey', 'run_logs_attempt_unique',
  'run_logs_pkey', 'run_state_pkey', 'schedule_ticks_fired_once', 'schedule_ticks_pkey', 'schedules_pkey', 'webhook_deliveries_dedupe',
  'webhook_deliveries_pkey', 'webhooks_pkey', 'workflow_versions_pkey', 'workflows_pkey',
];

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
/** With 0033 (and what came after it) undone: the schema this release's deploy migrates from, and the one a rollback returns to. */
let before: TestDatabase;
let app: TestApp;

beforeAll(async () => {
  [today, before] = await Promise.all([createTestDatabase('distribution_today'), createTestDatabase('distribution_before')]);
  await undoMigrationsThrough(before.url, before.schema, DISTRIBUTION_KEYS);
  app = await startTestApp('distribution_before', {}, { api: true, worker: true }, before);
});
afterAll(async () => {
  await app?.close();
  await Promise.all([today?.drop(), before?.drop()]);
});

describe('keys of a schema distributable by organization', () => {
  it("names every table without a NOT NULL organization_id as the deployment's own", async () => {
    expect(await tablesWithoutOrganization(today.pool)).toEqual([...referenceTables].sort());
  });

  it('holds organization_id in every unique key of the other tables', async () => {
    expect(await keysWithoutOrganization(today.pool)).toEqual([]);
    // Undone, 0033 gives back every key as it was, names and all.
    expect(await keysWithoutOrganization(before.pool)).toEqual(KEYS_BEFORE_0033);
  });

  it("has foreign keys only into the deployment's own tables", async () => {
    const { rows } = await today.pool.query<{ target: string }>(
      `SELECT confrelid::regclass::text AS target FROM pg_constraint WHERE connamespace = current_schema()::regnamespace AND contype = 'f'`,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const { target } of rows) expect(referenceTables).toContain(target.replace(/^.*\./, ''));
  });

  it("runs this release's writes against the keys before 0033 as well (the schema a rollback returns to)", async () => {
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
    const analytics = async () => (await before.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM analytics_runs WHERE run_id = ANY ($1)', [runIds])).rows[0]!.n;
    for (let tries = 0; (await analytics()) < runIds.length && tries < 200; tries += 1) await new Promise((r) => setTimeout(r, 50));
    expect(await analytics()).toBe(runIds.length);
    const { rows: parked } = await before.pool.query('SELECT projection, error FROM projection_parked_events');
    expect(parked).toEqual([]);
  });

  it('is described in docs/scaling.md, table by table', () => {
    const doc = readFileSync(join(__dirname, '../../docs/scaling.md'), 'utf8');
    for (const table of referenceTables) expect(doc).toContain(`\`${table}\``);
  });
});

describe('migration 0033, which widens the keys', () => {
  /** Backends of this schema's migration waiting on a lock `holder` holds. */
  async function blockedBy(pool: Pool, holder: number): Promise<number[]> {
    const { rows } = await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))', [holder]);
    return rows.map((r) => r.pid);
  }

  it('lets writers go on while it builds, resumes after a cancel, and leaves no index behind', async () => {
    const db = await createTestDatabase('distribution_online');
    const writer = new Client({ connectionString: db.url, options: `-c search_path=${db.schema}` });
    const probe = new Client({ connectionString: db.url, options: `-c search_path=${db.schema} -c lock_timeout=5s` });
    try {
      await undoMigrationsThrough(db.url, db.schema, DISTRIBUTION_KEYS);
      await Promise.all([writer.connect(), probe.connect()]);
      // A transaction writing to events stays open: the migration must wait for it to end before
      // it can build an index of events.
      await writer.query('BEGIN');
      await writer.query('LOCK TABLE events IN ROW EXCLUSIVE MODE');
      const writerPid = (await writer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const first = migrate(db.url, db.schema).then(
        () => undefined,
        (error: Error) => error,
      );
      let waiting: number[] = [];
      while (waiting.length === 0) {
        waiting = await blockedBy(db.pool, writerPid);
        if (waiting.length === 0) await new Promise((r) => setTimeout(r, 20));
      }
      // Meanwhile another writer gets in. Rebuilt in place, the key would hold an ACCESS EXCLUSIVE
      // lock request queued behind the open transaction, and every writer behind it (lock_timeout).
      await probe.query('BEGIN');
      await probe.query('LOCK TABLE events IN ROW EXCLUSIVE MODE');
      await probe.query('COMMIT');

      // Cancelled mid-build, it leaves an invalid index and no record of itself.
      await db.pool.query('SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid', [waiting]);
      expect(await first).toBeInstanceOf(Error);
      const invalid = await db.pool.query(`SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE i.relnamespace = current_schema()::regnamespace AND NOT x.indisvalid`);
      expect(invalid.rows.map((r) => r.relname)).toEqual(['events_pkey_next']);
      await writer.query('COMMIT');

      // Run again, it picks up where it stopped.
      expect((await migrate(db.url, db.schema))[0]).toBe(DISTRIBUTION_KEYS);
      expect(await keysWithoutOrganization(db.pool)).toEqual([]);
      const left = await db.pool.query(`SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relname LIKE '%\\_next'`);
      expect(left.rows).toEqual([]);
    } finally {
      await Promise.all([writer.end(), probe.end()]);
      await db.drop();
    }
  });

  it('builds afresh a finished index left with the other columns (an undo stopped mid-way)', async () => {
    const db = await createTestDatabase('distribution_leftover');
    try {
      await undoMigrationsThrough(db.url, db.schema, DISTRIBUTION_KEYS);
      // What an interrupted undo leaves: the next index of a key, valid, built with the key's columns before 0033.
      await db.pool.query('CREATE UNIQUE INDEX events_pkey_next ON events (global_position)');
      expect((await migrate(db.url, db.schema))[0]).toBe(DISTRIBUTION_KEYS);
      expect(await keysWithoutOrganization(db.pool)).toEqual([]);
    } finally {
      await db.drop();
    }
  });
});
