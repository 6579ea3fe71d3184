import { randomBytes } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { analyticsSchemaName, grantReadAccess, quoteIdent } from './analytics-schema';
import { scramVerifier } from './scram-verifier';

/** Thrown when a grant or revoke is refused before anything changed; the message says why. */
export class AnalyticsGrantRefused extends Error {
  readonly code = 'analytics_grant_refused';
}

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const PASSWORD = /^[\x21-\x7e]{12,200}$/;

export interface GrantOptions {
  role: string;
  /** Limit the role to this organization's rows; absent = every organization. */
  org?: string;
  /** Absent: one is generated and returned once. */
  password?: string;
}

export interface GrantResult {
  role: string;
  analyticsSchema: string;
  organizationId: string | null;
  createdRole: boolean;
  generatedPassword: string | undefined;
}

/**
 * `thodare analytics grant`: a login role that can read the deployment's analytics views and
 * nothing else — USAGE on that schema, SELECT on its views, and a row in `analytics_grants` that
 * the views' organization filter reads (the role gets no privilege on it). An existing role is
 * reused (its password reset) unless it is privileged or can already read the event store: an
 * analytics role must never be able to.
 */
export async function grantAnalytics(pool: Pool, schema: string, options: GrantOptions): Promise<GrantResult> {
  checkRoleName(options.role);
  if (options.password !== undefined && !PASSWORD.test(options.password)) {
    throw new AnalyticsGrantRefused('--password: 12 to 200 printable ASCII characters, no spaces');
  }
  const generatedPassword = options.password === undefined ? randomBytes(18).toString('base64url') : undefined;
  const verifier = scramVerifier(options.password ?? generatedPassword ?? '');
  const role = quoteIdent(options.role);
  const createdRole = await inLockedTransaction(pool, options.role, async (client) => {
    if (options.org !== undefined) {
      const org = await client.query('SELECT 1 FROM organizations WHERE id = $1', [options.org]);
      if (org.rowCount === 0) throw new AnalyticsGrantRefused(`--org: no organization "${options.org}"`);
    }
    const exists = await refuseUnsafeRole(client, options.role);
    // Utility statements take no parameters: the verifier is a checked literal, the name a checked identifier.
    const password = client.escapeLiteral(verifier);
    if (exists) await client.query(`ALTER ROLE ${role} WITH LOGIN PASSWORD ${password}`);
    else await client.query(`CREATE ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD ${password}`);
    await client.query(
      `INSERT INTO analytics_grants (role_name, organization_id, created_role) VALUES ($1, $2, $3)
       ON CONFLICT (role_name) DO UPDATE SET organization_id = EXCLUDED.organization_id, granted_at = now(),
         created_role = analytics_grants.created_role OR EXCLUDED.created_role`,
      [options.role, options.org ?? null, !exists],
    );
    await grantReadAccess(client, schema, options.role);
    return !exists;
  });
  return { role: options.role, analyticsSchema: analyticsSchemaName(schema), organizationId: options.org ?? null, createdRole, generatedPassword };
}

/**
 * `thodare analytics revoke`: takes the role's access to the analytics views away and forgets
 * its grant; drops the role when the grant created it and nothing else (another deployment's
 * grant) still holds it.
 */
export async function revokeAnalytics(pool: Pool, schema: string, roleName: string): Promise<{ revoked: boolean; dropped: boolean }> {
  checkRoleName(roleName);
  const role = quoteIdent(roleName);
  const analytics = quoteIdent(analyticsSchemaName(schema));
  const { revoked, created } = await inLockedTransaction(pool, roleName, async (client) => {
    const { rows } = await client.query<{ created_role: boolean }>('DELETE FROM analytics_grants WHERE role_name = $1 RETURNING created_role', [roleName]);
    const exists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [roleName])).rowCount !== 0;
    if (exists) {
      await client.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ${analytics} FROM ${role}`);
      await client.query(`REVOKE ALL ON SCHEMA ${analytics} FROM ${role}`);
    }
    return { revoked: rows.length > 0, created: rows[0]?.created_role === true && exists };
  });
  if (!created) return { revoked, dropped: false };
  try {
    await pool.query(`DROP ROLE ${role}`);
    return { revoked, dropped: true };
  } catch (error) {
    // 2BP01: it still holds privileges elsewhere (another deployment's analytics grant).
    if ((error as { code?: string }).code === '2BP01') return { revoked, dropped: false };
    throw error;
  }
}

function checkRoleName(role: string): void {
  if (!ROLE_NAME.test(role) || role.startsWith('pg_')) {
    throw new AnalyticsGrantRefused(`role "${role}": use a lowercase SQL identifier (letters, digits, _; at most 63 characters; not pg_…)`);
  }
}

/** Whether the role exists; refuses a role that could read more than the views, or is the caller itself. */
async function refuseUnsafeRole(client: PoolClient, role: string): Promise<boolean> {
  const { rows } = await client.query<{ privileged: boolean; is_caller: boolean; reads_events: boolean }>(
    `SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls AS privileged,
            rolname = current_user AS is_caller,
            has_table_privilege(oid, to_regclass('events'), 'SELECT') AS reads_events
     FROM pg_roles WHERE rolname = $1`,
    [role],
  );
  const row = rows[0];
  if (!row) return false;
  if (row.is_caller) throw new AnalyticsGrantRefused(`role "${role}" is the role running this command`);
  if (row.privileged) throw new AnalyticsGrantRefused(`role "${role}" is privileged (superuser, createrole, createdb, replication or bypassrls)`);
  if (row.reads_events) throw new AnalyticsGrantRefused(`role "${role}" can read the event store; an analytics role must not`);
  return true;
}

/** One transaction, serialized per role name across every process. */
async function inLockedTransaction<T>(pool: Pool, role: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`thodare-analytics-grant:${role}`]);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
