import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/database';

// The schema stays ready to be distributed by organization on an existing distributed engine
// (docs/scaling.md, "Past one database"): Citus takes a table with `organization_id` as a
// distributed table only when every primary key and unique index holds that column, and a
// foreign key only where one side is a reference table. A table without the column is one of the
// deployment's own (replicated or kept on the coordinator), named below with the reason; a new
// table is one or the other, and this test makes the choice explicit.

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

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('distribution_keys');
});
afterAll(async () => db?.drop());

async function tablesWithoutOrganization(): Promise<string[]> {
  const { rows } = await db.pool.query<{ table_name: string }>(
    `SELECT c.relname AS table_name FROM pg_class c
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
       AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'organization_id' AND a.attnotnull AND NOT a.attisdropped)
     ORDER BY 1`,
  );
  return rows.map((r) => r.table_name);
}

describe('keys of a schema distributable by organization', () => {
  it("names every table without a NOT NULL organization_id as the deployment's own", async () => {
    expect(await tablesWithoutOrganization()).toEqual(Object.keys(REFERENCE_TABLES).sort());
  });

  it('holds organization_id in every primary key and unique index of the other tables', async () => {
    const { rows } = await db.pool.query<{ index: string }>(
      `SELECT i.relname AS index FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
       WHERE t.relnamespace = current_schema()::regnamespace AND x.indisunique AND NOT (t.relname = ANY ($1::text[]))
         AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = 'organization_id' AND a.attnum = ANY (x.indkey))
       ORDER BY 1`,
      [Object.keys(REFERENCE_TABLES)],
    );
    expect(rows.map((r) => r.index)).toEqual([]);
    const { rows: keyed } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid
       WHERE t.relnamespace = current_schema()::regnamespace AND x.indisprimary AND NOT (t.relname = ANY ($1::text[]))`,
      [Object.keys(REFERENCE_TABLES)],
    );
    expect(keyed[0]!.n).toBeGreaterThan(20); // the check above read real keys
  });

  it("has foreign keys only into the deployment's own tables", async () => {
    const { rows } = await db.pool.query<{ name: string; target: string }>(
      `SELECT conname AS name, confrelid::regclass::text AS target FROM pg_constraint
       WHERE connamespace = current_schema()::regnamespace AND contype = 'f'`,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const { target } of rows) expect(Object.keys(REFERENCE_TABLES)).toContain(target.replace(/^.*\./, ''));
  });

  it('is described in docs/scaling.md, table by table', () => {
    const doc = readFileSync(join(__dirname, '../../docs/scaling.md'), 'utf8');
    for (const table of Object.keys(REFERENCE_TABLES)) expect(doc).toContain(`\`${table}\``);
  });
});
