import type { Pool, PoolClient } from 'pg';
import { START, type Checkpoint } from '../event-store/event';
import type { EventStore } from '../event-store/event-store';
import { applyAll, handlesEvent, type Projection } from '../event-store/projection';
import { createShadow, mergeShadow, type MergeCounts, type ShadowTable } from './shadow-table';

/** The advisory lock key of a live rebuild of `projection` (SQL: a parameter or a literal), in the deployment's schema. */
export const REBUILD_LOCK_KEY_SQL = (projection: string) => `hashtext(current_schema() || ':rebuild:' || ${projection})`;

const PAGE = 1000;
/** Unlocked catch-up passes stop once one finds this few events: the locked pass stays short. */
const SHORT_TAIL = 50;
const TAIL_PASSES = 20;
/** More events than this left for the locked pass (an old open transaction holds the horizon back): refuse. */
const MAX_LOCKED_TAIL = 2000;
/** Writers queue behind a lock request, so the swap waits this long at most, then backs off and retries. */
const LOCK_WAIT = '200ms';
const LOCK_ATTEMPTS = 25;

/** What the swap did: rows it changed live, events it applied under the lock, and how long it held writers. */
export interface SwapReport extends MergeCounts {
  caughtUp: number;
  lockedMs: number;
}

/**
 * Thrown, with nothing changed, when an inline rebuild would hold writers for long (writers kept
 * the tables locked at every try, or an old open transaction holds many events back) or when
 * another rebuild of the same projection is running.
 */
export class RebuildRefused extends Error {
  readonly code = 'rebuild_refused';
}

/**
 * Rebuilds an inline projection while its tables stay live. The events are replayed into
 * temporary shadow tables with no lock on the live ones; then one short transaction locks the
 * live tables against writers (`EXCLUSIVE`: reads go on), applies the events committed since,
 * and merges the shadow into the live tables (`mergeShadow`: the table keeps its identity, its
 * indexes and the operational columns, and only differing rows are written).
 *
 * Why no event is missed: every inline writer writes its tables in its append's transaction.
 * Once the lock is held, each such writer has either committed (its events are read by the
 * locked pass) or is waiting for the lock (its events are invisible here, and it applies them
 * itself after the swap).
 */
export async function rebuildInline(pool: Pool, store: EventStore, projection: Projection): Promise<{ events: number; swap: SwapReport }> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${REBUILD_LOCK_KEY_SQL('$1')}) AS ok`, [projection.name]);
    if (!rows[0]?.ok) throw new RebuildRefused(`a rebuild of ${projection.name} is already running`);
    const shadows: ShadowTable[] = [];
    for (const table of projection.tables) shadows.push(await createShadow(client, table, projection.operationalColumns?.[table]));
    const progress: Progress = { after: START, events: 0 };
    await replay(client, store, projection, progress);
    for (let pass = 0; pass < TAIL_PASSES; pass += 1) {
      if ((await replay(client, store, projection, progress)) <= SHORT_TAIL) break;
    }
    for (const shadow of shadows) await client.query(`ANALYZE ${shadow.shadow}`);
    const swap = await swapIn(client, store, projection, shadows, progress);
    return { events: progress.events, swap };
  } finally {
    // Destroyed, not returned to the pool: its shadows would hide the live tables from later users.
    client.release(true);
  }
}

/** How far the shadows are: the last event applied (commit order) and how many were read. */
interface Progress {
  after: Checkpoint;
  events: number;
}

/**
 * Applies the events after `progress` to the shadows, page by page in commit order, and returns
 * how many it read. Unlocked, it stops below the oldest open transaction (as an async runner
 * does), so it never skips a late commit; locked, writers are out and it reads to the end.
 */
async function replay(client: PoolClient, store: EventStore, projection: Projection, progress: Progress, locked = false): Promise<number> {
  let read = 0;
  for (;;) {
    const { events: page, more } = await store.readAll(progress.after, { limit: PAGE, db: client, belowOpenTransactions: !locked });
    await applyAll(projection, client, page.filter((e) => handlesEvent(projection, e)));
    const last = page.at(-1);
    if (last) progress.after = { transactionId: last.transactionId, globalPosition: last.globalPosition };
    progress.events += page.length;
    read += page.length;
    if (!more) return read;
  }
}

/** The short transaction: lock, catch up, merge. Retries when writers keep the lock busy. */
async function swapIn(client: PoolClient, store: EventStore, projection: Projection, shadows: ShadowTable[], progress: Progress): Promise<SwapReport> {
  const tables = shadows.map((s) => s.live).join(', ');
  for (let attempt = 1; ; attempt += 1) {
    await refuseLongTail(client, projection, progress.after);
    // A rolled-back attempt leaves the shadows (temporary tables are transactional) and this copy as they were.
    const locked = { ...progress };
    await client.query('BEGIN');
    try {
      await client.query(`SET LOCAL lock_timeout = '${LOCK_WAIT}'`);
      await client.query(`LOCK TABLE ${tables} IN EXCLUSIVE MODE`);
      const since = performance.now();
      const caughtUp = await replay(client, store, projection, locked, true);
      const counts: MergeCounts = { updated: 0, inserted: 0, deleted: 0 };
      for (const shadow of shadows) {
        const merged = await mergeShadow(client, shadow);
        counts.updated += merged.updated;
        counts.inserted += merged.inserted;
        counts.deleted += merged.deleted;
      }
      await client.query('COMMIT');
      Object.assign(progress, locked);
      return { ...counts, caughtUp, lockedMs: Math.round(performance.now() - since) };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if ((error as { code?: string }).code !== '55P03') throw error;
      if (attempt === LOCK_ATTEMPTS) {
        throw new RebuildRefused(`${projection.name}: writers kept ${tables} locked at each of ${LOCK_ATTEMPTS} tries; nothing was changed, try again`);
      }
    }
    await replay(client, store, projection, progress);
  }
}

/** Refuses, rather than hold writers for long, when many events lie beyond the unlocked horizon. */
async function refuseLongTail(client: PoolClient, projection: Projection, after: Checkpoint): Promise<void> {
  const types = projection.handles === 'all' ? null : projection.handles;
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (
       SELECT 1 FROM events WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint) AND ($3::text[] IS NULL OR type = ANY ($3))
       LIMIT $4) AS tail`,
    [after.transactionId, after.globalPosition, types, MAX_LOCKED_TAIL + 1],
  );
  if ((rows[0]?.n ?? 0) > MAX_LOCKED_TAIL) {
    throw new RebuildRefused(
      `${projection.name}: over ${MAX_LOCKED_TAIL} events wait behind an old open transaction (see pg_stat_activity); ` +
        'swapping now would hold writers too long, so nothing was changed: try again once it ends',
    );
  }
}
