import type { Pool } from 'pg';
import { Checkpoint, START } from '../event-store/event';
import type { EventStore } from '../event-store/event-store';
import { writeCheckpoint } from '../event-store/checkpoints';
import { applyAll, handlesEvent, type Projection } from './projection';

const PAGE = 5000;

/**
 * Rebuilds a read model from position zero in one transaction: empty its tables, replay every
 * event through `apply`, and (async projections) store the checkpoint reached.
 *
 * Concurrency: TRUNCATE holds an ACCESS EXCLUSIVE lock until commit. An inline projection's
 * writer that touched the table earlier has committed (so its event is visible here); one that
 * comes later blocks on the lock and applies its own event after us — so inline rebuilds read
 * every committed event. Async rebuilds take the runner's advisory lock and stop below the
 * oldest open transaction, exactly like the runner, which continues from their checkpoint.
 */
export async function rebuildProjection(pool: Pool, store: EventStore, projection: Projection): Promise<{ events: number }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    if (projection.mode === 'async') {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':projection:' || $1))`, [projection.name]);
    }
    await client.query(`TRUNCATE ${projection.tables.map((t) => `"${t}"`).join(', ')}`);
    let after: Checkpoint = START;
    let applied = 0;
    for (;;) {
      const events = await store.readAll(after, {
        limit: PAGE,
        db: client,
        belowOpenTransactions: projection.mode === 'async',
      });
      await applyAll(projection, client, events.filter((e) => handlesEvent(projection, e.type)));
      const last = events.at(-1);
      if (!last) break;
      after = { transactionId: last.transactionId, globalPosition: last.globalPosition };
      applied += events.length;
    }
    if (projection.mode === 'async') await writeCheckpoint(client, projection.name, after);
    await client.query('COMMIT');
    return { events: applied };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
