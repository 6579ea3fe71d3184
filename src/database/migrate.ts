import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { runner } from 'node-pg-migrate';
import { installAnalytics } from '../analytics/analytics-schema';
import { projectRoot } from './project-root';

export const MIGRATIONS_TABLE = 'pgmigrations';
const MIGRATION_LOCK_RETRY_MS = 100;

export function migrationsDir(): string {
  return join(projectRoot(), 'migrations');
}

/**
 * Names of the migration files shipped with this build, in order: SQL, each applied in one
 * transaction, and JavaScript where a change must run outside one (0033 builds indexes online).
 */
export function knownMigrations(): string[] {
  return readdirSync(migrationsDir())
    .filter((f) => /^\d{4}_.*\.(sql|js)$/.test(f))
    .map((f) => f.replace(/\.(sql|js)$/, ''))
    .sort();
}

/**
 * Applies pending migrations to `schema`. Safe to run from many processes at once: an advisory
 * lock per schema serialises them (node-pg-migrate's own lock is try-or-fail and
 * cluster-wide, so it is turned off), and re-running applies nothing.
 */
export async function migrate(url: string, schema: string, log: (line: string) => void = () => undefined): Promise<string[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await takeMigrationLock(client, schema);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const applied = await runner({
      dbClient: client,
      dir: migrationsDir(),
      direction: 'up',
      migrationsTable: MIGRATIONS_TABLE,
      schema,
      noLock: true,
      checkOrder: true,
      log: () => undefined,
      logger: { debug: () => undefined, info: () => undefined, warn: log, error: log },
    });
    // The analysts' views are code, not numbered migrations: re-installed when their SQL changes.
    await installAnalytics(client, schema);
    return applied.map((m) => m.name);
  } finally {
    await client.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    await client.end();
  }
}

/**
 * Waits for the schema's migration lock by trying it, never by a statement that blocks: a
 * blocked `pg_advisory_lock` holds a snapshot, and the holder's `CREATE INDEX CONCURRENTLY` (0033)
 * waits for every older snapshot to end, so two processes starting at once would deadlock.
 */
async function takeMigrationLock(client: Client, schema: string): Promise<void> {
  for (;;) {
    const { rows } = await client.query<{ taken: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS taken', [`thodare-migrate:${schema}`]);
    if (rows[0]?.taken) return;
    await new Promise((resolve) => setTimeout(resolve, MIGRATION_LOCK_RETRY_MS));
  }
}

/** True when every migration this build ships is recorded as applied in `schema`. */
export async function migrationsApplied(query: (sql: string, params: unknown[]) => Promise<{ rows: { name: string }[] }>, schema: string): Promise<boolean> {
  const { rows } = await query(
    `SELECT name FROM "${schema}".${MIGRATIONS_TABLE}`,
    [],
  ).catch(() => ({ rows: [] as { name: string }[] }));
  const done = new Set(rows.map((r) => r.name));
  return knownMigrations().every((m) => done.has(m));
}
