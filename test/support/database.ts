import { randomBytes } from 'node:crypto';
import { Client, Pool, type PoolClient } from 'pg';
import { runner } from 'node-pg-migrate';
import { analyticsSchemaName } from '../../src/analytics/analytics-schema';
import type { EventStore } from '../../src/event-store/event-store';
import type { RecordedEvent } from '../../src/event-store/event';
import type { Projection } from '../../src/event-store/projection';
import { rebuildProjection } from '../../src/projections/rebuild';
import { migrate, MIGRATIONS_TABLE, migrationsDir } from '../../src/database/migrate';
import { createPool } from '../../src/database/pool';

export interface TestDatabase {
  url: string;
  schema: string;
  pool: Pool;
  drop(): Promise<void>;
}

export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run integration tests through jest (its global setup provides one)');
  return url;
}

/** A fresh, migrated schema for one test file; `drop()` removes it and closes the pool. */
export async function createTestDatabase(label: string, poolSize = 10): Promise<TestDatabase> {
  const url = databaseUrl();
  const schema = `test_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  await migrate(url, schema);
  const pool = createPool(url, schema, poolSize);
  return {
    url,
    schema,
    pool,
    async drop() {
      await pool.end();
      await dropSchema(url, schema);
    },
  };
}

/**
 * Undoes `name` and every migration applied after it (their down parts), newest first, as
 * `thodare migrate` would have left the schema before `name`.
 */
export async function undoMigrationsThrough(url: string, schema: string, name: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}"."${MIGRATIONS_TABLE}" WHERE name >= $1`, [name]);
    await runner({ dbClient: client, dir: migrationsDir(), direction: 'down', count: Number(rows[0]!.n), migrationsTable: MIGRATIONS_TABLE, schema, noLock: true, log: () => undefined });
  } finally {
    await client.end();
  }
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    // The analysts' views live in a schema of their own beside the deployment's.
    await client.query(`DROP SCHEMA IF EXISTS "${analyticsSchemaName(schema)}", "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * Reads until `done` holds of what was read (at most ~5 s; then the last read, for the caller's
 * assertions to describe). For reads that stop at the horizon of the server's oldest open writing
 * transaction (`readAll`, the audit trail): other test files running at the same time on this
 * server hold some open for a moment.
 */
export async function readUntil<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let tries = 0; ; tries++) {
    const value = await read();
    if (done(value) || tries >= 200) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** `readAll` once at least `count` events are visible (see `readUntil`). */
export function readWhenVisible(count: number, reader: EventStore, ...args: Parameters<EventStore['readAll']>) {
  return readUntil(async () => (await reader.readAll(...args)).events, (events) => events.length >= count);
}

/**
 * Rebuilds `projection` from every event now in the store: an async rebuild reads only below the
 * horizon of the server's oldest open writing transaction (see `readUntil`), so it is done again
 * until it has read them all.
 */
export async function rebuildWhole(pool: Pool, store: EventStore, projection: Projection): Promise<void> {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM events');
  const total = Number(rows[0]!.n);
  const rebuilt = await readUntil(() => rebuildProjection(pool, store, projection), (result) => result.events >= total);
  if (rebuilt.events < total) throw new Error(`the rebuild of ${projection.name} read ${rebuilt.events} of ${total} events`);
}

/**
 * `count` `Filler` events of `organizationId` (data `{i}`, actor `system:filler`), written straight
 * into the store a thousand a transaction, as a busy organization's history would be: a long
 * history in seconds, without a request per event.
 */
export async function writeFillerHistory(pool: Pool, organizationId: string, count: number): Promise<void> {
  for (let first = 0; first < count; first += 1000) {
    await pool.query(
      `INSERT INTO events (stream_id, stream_version, organization_id, type, data, metadata)
       SELECT 'filler-' || (g / 100), g % 100 + 1, $1, 'Filler', jsonb_build_object('i', g), '{"actor":{"type":"system","id":"filler"}}'::jsonb
       FROM generate_series($2::integer, $2::integer + least(999, $3::integer - $2::integer - 1)) g`,
      [organizationId, first, count],
    );
  }
}

/** Rows of a table one piece of work inserted and updated. */
export interface RowsWritten {
  inserted: number;
  updated: number;
}

/**
 * Applies `events` in one batch of `projection` inside a transaction rolled back after `check`,
 * once `prepare` ran in it: `check` sees the rows the batch left and how many rows of `table` it
 * inserted and updated. The counts are the backend's not yet reported, and Postgres 15 keeps
 * earlier transactions' in them too, so the batch's writes are the difference: an insert and then
 * an update of one row show as both.
 */
export async function applyInOneBatch(
  pool: Pool,
  projection: Projection,
  events: readonly RecordedEvent[],
  table: string,
  prepare: (tx: PoolClient) => Promise<unknown>,
  check: (tx: PoolClient, written: RowsWritten) => Promise<void>,
): Promise<void> {
  const tx = await pool.connect();
  try {
    await tx.query('BEGIN');
    await prepare(tx);
    const counts = async () =>
      (await tx.query<RowsWritten>(`SELECT pg_stat_get_xact_tuples_inserted($1::regclass)::int AS inserted, pg_stat_get_xact_tuples_updated($1::regclass)::int AS updated`, [table])).rows[0]!;
    const before = await counts();
    await projection.applyBatch!(tx, events);
    const after = await counts();
    await check(tx, { inserted: after.inserted - before.inserted, updated: after.updated - before.updated });
  } finally {
    await tx.query('ROLLBACK');
    tx.release();
  }
}
