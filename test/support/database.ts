import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { analyticsSchemaName } from '../../src/analytics/analytics-schema';
import type { EventStore } from '../../src/event-store/event-store';
import { migrate } from '../../src/database/migrate';
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
 * readAll stops at the horizon of the server's oldest open writing transaction, and the other
 * test files running at the same time on this server hold some open for a moment: read again
 * until `count` events are visible (the assertions then say exactly which).
 */
export async function readWhenVisible(count: number, reader: EventStore, ...args: Parameters<EventStore['readAll']>) {
  for (let tries = 0; ; tries++) {
    const events = await reader.readAll(...args);
    if (events.length >= count || tries >= 200) return events;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
