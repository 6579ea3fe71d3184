import { Pool, PoolClient } from 'pg';

/**
 * A pg Pool whose connections all have `search_path` set to the deployment's schema, so SQL
 * stays unqualified and several deployments (or test files) can share one cluster.
 */
export function createPool(url: string, schema: string, max: number, connectTimeoutMs = 5_000): Pool {
  // A connect that never completes (a partition, a dead host) fails after `connectTimeoutMs`
  // instead of hanging the caller — and a shutdown — forever.
  const pool = new Pool({ connectionString: url, max, options: `-c search_path=${schema}`, connectionTimeoutMillis: connectTimeoutMs, keepAlive: true });
  // An idle client's error (e.g. the server restarting) must not crash the process; the next
  // checkout gets a fresh connection.
  pool.on('error', () => undefined);
  // The same for a client that is checked out but between queries when its connection dies: the
  // error reaches its next query (and the pool discards it on release); unheard, it would crash.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Runs `work` in one transaction on one pooled connection; rolls back on any throw. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
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
