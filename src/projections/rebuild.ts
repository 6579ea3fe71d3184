import type { Pool } from 'pg';
import { Checkpoint, START } from '../event-store/event';
import type { EventStore } from '../event-store/event-store';
import { writeCheckpoint } from '../event-store/checkpoints';
import { applyAll, handlesEvent, type Projection } from '../event-store/projection';
import { rebuildInline, type SwapReport } from './live-rebuild';

const PAGE = 5000;

/**
 * Rebuilds a read model from position zero. Inline projections' tables are live (the API and
 * the worker write them on every append), so they are rebuilt beside them and swapped in by a
 * short transaction (`live-rebuild.ts`). Async ones are rebuilt in one transaction: empty the
 * tables, replay every event through `apply`, and store the checkpoint reached.
 *
 * Concurrency (async): TRUNCATE holds an ACCESS EXCLUSIVE lock until commit. Async rebuilds
 * take the runner's advisory lock and stop below the oldest open transaction, exactly like the
 * runner, which continues from their checkpoint.
 */
export async function rebuildProjection(pool: Pool, store: EventStore, projection: Projection): Promise<{ events: number; swap?: SwapReport }> {
  if (projection.mode === 'inline') return rebuildInline(pool, store, projection);
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
      const { events, more } = await store.readAll(after, {
        limit: PAGE,
        db: client,
        belowOpenTransactions: projection.mode === 'async',
      });
      await applyAll(projection, client, events.filter((e) => handlesEvent(projection, e)));
      const last = events.at(-1);
      if (last) after = { transactionId: last.transactionId, globalPosition: last.globalPosition };
      applied += events.length;
      if (!more) break;
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
