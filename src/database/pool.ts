import { Pool, PoolClient } from 'pg';
import { classifyDatabaseError } from './pg-errors';

/**
 * Limits on one session's statements (milliseconds; unset = none). The API's pool sets them all;
 * the CLI (migrations, rebuilds) and `thodare worker` leave long statements uncut.
 */
export interface SessionLimits {
  /** Server side: cancels a statement running longer (SQLSTATE 57014). */
  statementTimeoutMs?: number;
  /** Client side: fails a query with no answer at all (a partition drops packets, no RST comes). */
  queryTimeoutMs?: number;
  /** Server side: ends a session left idle inside a transaction (it would hold its locks). */
  idleInTransactionTimeoutMs?: number;
}

/**
 * A pg Pool whose connections all have `search_path` set to the deployment's schema, so SQL
 * stays unqualified and several deployments (or test files) can share one cluster.
 */
export function createPool(url: string, schema: string, max: number, connectTimeoutMs = 5_000, limits: SessionLimits = {}): Pool {
  // A connect that never completes (a partition, a dead host) fails after `connectTimeoutMs`
  // instead of hanging the caller — and a shutdown — forever. node-postgres applies the same
  // bound to a checkout waiting for a free client (acquire), so one setting covers both.
  const pool = new Pool({
    connectionString: url,
    max,
    // JIT off: every statement of the application is a short keyed read or write, and JIT only
    // triggers on a misestimate (a young table without statistics), where compiling cost ~77 ms
    // for a statement that runs in 1 ms (migrations/0022). Analysts' own connections keep it.
    options: `-c search_path=${schema} -c jit=off`,
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    ...(limits.statementTimeoutMs ? { statement_timeout: limits.statementTimeoutMs } : {}),
    ...(limits.queryTimeoutMs ? { query_timeout: limits.queryTimeoutMs } : {}),
    ...(limits.idleInTransactionTimeoutMs ? { idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs } : {}),
  });
  // An idle client's error (e.g. the server restarting) must not crash the process; the next
  // checkout gets a fresh connection.
  pool.on('error', () => undefined);
  // The same for a client that is checked out but between queries when its connection dies: the
  // error reaches its next query (and the pool discards it on release); unheard, it would crash.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/**
 * What a transaction's work asks to happen once the transaction is over: after its COMMIT
 * answered, or when it did not (rolled back, or its outcome is unknown), in the order asked.
 * Effects must not throw: the transaction's outcome is decided by then.
 */
export interface TransactionEnd {
  onCommit(effect: () => void): void;
  onFailure(effect: () => void): void;
}

/** Runs `work` in one transaction on one pooled connection; rolls back on any throw. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient, end: TransactionEnd) => Promise<T>): Promise<T> {
  const committed: (() => void)[] = [];
  const failed: (() => void)[] = [];
  const end: TransactionEnd = { onCommit: (effect) => committed.push(effect), onFailure: (effect) => failed.push(effect) };
  const client = await pool.connect();
  let result: T;
  try {
    await client.query('BEGIN');
    result = await work(client, end);
    await client.query('COMMIT');
  } catch (error) {
    // The database away or timing out: destroy the client rather than pool it (it may still be
    // mid-query, or dead) and skip the ROLLBACK that would wait out another timeout — closing
    // the connection rolls back. Any other failure rolls back and keeps a healthy connection.
    const away = classifyDatabaseError(error) === 'unavailable';
    const rolledBack = !away && (await client.query('ROLLBACK').then(() => true, () => false));
    client.release(rolledBack ? undefined : true);
    failed.forEach((effect) => effect());
    throw error;
  }
  client.release();
  committed.forEach((effect) => effect());
  return result;
}
