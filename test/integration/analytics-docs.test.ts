import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderAnalyticsDocs } from '../../src/analytics/analytics-docs';
import { analyticsSchemaName, analyticsSql, installAnalytics } from '../../src/analytics/analytics-schema';
import { migrate } from '../../src/database/migrate';
import { createTestDatabase, type TestDatabase } from '../support/database';

// docs/analytics.md is generated from the catalog comments of the contract; CI (npm test)
// fails here when someone changed a view or a comment without regenerating it.

let db: TestDatabase;
let analytics: string;

beforeAll(async () => {
  db = await createTestDatabase('analytics_docs');
  analytics = analyticsSchemaName(db.schema);
});
afterAll(async () => {
  await db?.drop();
});

it('docs/analytics.md is what the catalog comments of a fresh schema render (else: npm run analytics:docs)', async () => {
  const committed = readFileSync(join(__dirname, '..', '..', 'docs', 'analytics.md'), 'utf8');
  expect(await renderAnalyticsDocs(db.pool, analytics)).toBe(committed);
});

it('documents every view and column, and renders the same whatever the deployment schema is called', async () => {
  const text = await renderAnalyticsDocs(db.pool, analytics);
  expect(text).not.toContain(db.schema);
  expect(text.match(/^## /gm)).toHaveLength(10);
});

it('installs the contract once: a second migrate with the same SQL changes nothing', async () => {
  const installed = async () => (await db.pool.query('SELECT sha256, installed_at FROM analytics_contract')).rows;
  const before = await installed();
  await migrate(db.url, db.schema);
  expect(await installed()).toEqual(before);
  const client = await db.pool.connect();
  try {
    expect(await installAnalytics(client, db.schema)).toBe(false);
  } finally {
    client.release();
  }
  expect(analyticsSql(db.schema)).not.toMatch(/\{\{(app|analytics|visible)/);
});

it('names the schema analytics_v1 for the default deployment and keeps other names within 63 characters', () => {
  expect(analyticsSchemaName('thodare')).toBe('analytics_v1');
  expect(analyticsSchemaName('staging')).toBe('staging_analytics_v1');
  const long = analyticsSchemaName('x'.repeat(60));
  expect(long).toHaveLength(63);
  expect(long).not.toBe(analyticsSchemaName(`${'x'.repeat(59)}y`));
});
