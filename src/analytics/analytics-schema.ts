import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientBase } from 'pg';
import { projectRoot } from '../database/project-root';

/** The contract this build installs; a breaking change ships as `v2`, beside it. */
export const ANALYTICS_VERSION = 'analytics_v1';
const MAX_IDENTIFIER = 63;

/**
 * The analytics schema of a deployment. Several deployments (and test schemas) share one
 * cluster, so only the default deployment `thodare` gets the bare `analytics_v1`; any other gets
 * `<schema>_analytics_v1`, shortened with a hash of the schema when that passes Postgres's 63
 * characters (`<first 41>_<8 hex>_analytics_v1`).
 */
export function analyticsSchemaName(schema: string): string {
  if (schema === 'thodare') return ANALYTICS_VERSION;
  const name = `${schema}_${ANALYTICS_VERSION}`;
  if (name.length <= MAX_IDENTIFIER) return name;
  const hash = createHash('sha256').update(schema).digest('hex').slice(0, 8);
  return `${schema.slice(0, MAX_IDENTIFIER - ANALYTICS_VERSION.length - 10)}_${hash}_${ANALYTICS_VERSION}`;
}

export function analyticsSqlDir(): string {
  return join(projectRoot(), 'src', 'analytics', 'views');
}

/**
 * The contract's SQL for one deployment: the files of `src/analytics/views/`, in name order,
 * with `{{app}}` (the deployment schema), `{{analytics}}` and `{{visible(alias)}}` expanded.
 * `{{visible(x)}}` is the one organization filter of every view (see `analytics_scope` in
 * migrations/0012): both sub-selects are uncorrelated, so Postgres runs them once per query.
 */
export function analyticsSql(schema: string): string {
  const app = quoteIdent(schema);
  const scope = `${app}.analytics_scope`;
  return readdirSync(analyticsSqlDir())
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => readFileSync(join(analyticsSqlDir(), f), 'utf8'))
    .join('\n')
    .replace(/\{\{visible\((\w+)\)\}\}/g, (_, alias: string) =>
      `((SELECT s.unrestricted FROM ${scope} s) OR ${alias}.organization_id = ANY ((SELECT s.organization_ids FROM ${scope} s)::text[]))`)
    .replace(/\{\{app\}\}/g, app)
    .replace(/\{\{analytics\}\}/g, quoteIdent(analyticsSchemaName(schema)));
}

/**
 * Creates or updates the deployment's analytics schema: views only, their comments, and SELECT
 * for every role granted through `thodare analytics grant` (a view added since reaches them
 * too). Called by `migrate` under its per-schema advisory lock, in one transaction; skipped when
 * the installed SQL is this build's (re-creating a view waits for every analyst query on it).
 * Within a version views only gain columns at their end (`CREATE OR REPLACE VIEW`'s rule, and
 * the contract's): a breaking change is a new version.
 */
export async function installAnalytics(db: ClientBase, schema: string): Promise<boolean> {
  const text = analyticsSql(schema);
  const sha256 = createHash('sha256').update(text).digest('hex');
  const analytics = quoteIdent(analyticsSchemaName(schema));
  const app = quoteIdent(schema);
  const { rows } = await db.query(
    `SELECT 1 FROM ${app}.analytics_contract WHERE version = $1 AND sha256 = $2 AND to_regnamespace($3) IS NOT NULL`,
    [ANALYTICS_VERSION, sha256, analyticsSchemaName(schema)],
  );
  if (rows.length > 0) return false;
  await db.query('BEGIN');
  try {
    await db.query(`CREATE SCHEMA IF NOT EXISTS ${analytics}`);
    await db.query(`REVOKE ALL ON SCHEMA ${analytics} FROM PUBLIC`);
    await db.query(text);
    const grants = await db.query<{ role_name: string }>(
      `SELECT g.role_name FROM ${app}.analytics_grants g JOIN pg_roles r ON r.rolname = g.role_name ORDER BY 1`,
    );
    for (const { role_name } of grants.rows) await grantReadAccess(db, schema, role_name);
    await db.query(
      `INSERT INTO ${app}.analytics_contract (version, sha256) VALUES ($1, $2)
       ON CONFLICT (version) DO UPDATE SET sha256 = EXCLUDED.sha256, installed_at = now()`,
      [ANALYTICS_VERSION, sha256],
    );
    await db.query('COMMIT');
    return true;
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** USAGE on the analytics schema and SELECT on its views: all a granted role ever gets. */
export async function grantReadAccess(db: Pick<ClientBase, 'query'>, schema: string, role: string): Promise<void> {
  const analytics = quoteIdent(analyticsSchemaName(schema));
  await db.query(`GRANT USAGE ON SCHEMA ${analytics} TO ${quoteIdent(role)}`);
  await db.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${analytics} TO ${quoteIdent(role)}`);
}

/** A double-quoted identifier; callers only pass names already checked as identifiers. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
