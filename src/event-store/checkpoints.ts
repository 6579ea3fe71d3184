import type { Queryable } from './projection';
import type { Checkpoint } from './event';

/**
 * Checkpoints of async projections (`projection_checkpoints`): the `(transaction_id,
 * global_position)` of the last event each one applied, written in the same transaction as its
 * rows. Every event at or before a checkpoint, in commit order, has been applied: the runner
 * reads below the oldest open transaction, so nothing can still commit behind it.
 */
export async function readCheckpoint(db: Queryable, name: string): Promise<Checkpoint> {
  const { rows } = await db.query<{ transaction_id: string; global_position: string }>(
    'SELECT transaction_id::text AS transaction_id, global_position FROM projection_checkpoints WHERE name = $1',
    [name],
  );
  const row = rows[0];
  return row ? { transactionId: row.transaction_id, globalPosition: Number(row.global_position) } : { transactionId: '0', globalPosition: 0 };
}

export async function writeCheckpoint(db: Queryable, name: string, at: Checkpoint): Promise<void> {
  await db.query(
    `INSERT INTO projection_checkpoints (name, transaction_id, global_position, updated_at)
     VALUES ($1, $2::xid8, $3, now())
     ON CONFLICT (name) DO UPDATE SET transaction_id = EXCLUDED.transaction_id,
       global_position = EXCLUDED.global_position, updated_at = EXCLUDED.updated_at`,
    [name, at.transactionId, at.globalPosition],
  );
}

/** Commit order: negative when `a` comes before `b`, 0 when they are the same event. */
export function compareCheckpoints(a: Checkpoint, b: Checkpoint): number {
  const ta = BigInt(a.transactionId);
  const tb = BigInt(b.transactionId);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.globalPosition - b.globalPosition;
}

/** Where the latest event of `streamId` sits in commit order; undefined for an empty stream. */
export async function streamHead(db: Queryable, streamId: string): Promise<Checkpoint | undefined> {
  const { rows } = await db.query<{ transaction_id: string; global_position: string }>(
    `SELECT transaction_id::text AS transaction_id, global_position FROM events
     WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1`,
    [streamId],
  );
  const row = rows[0];
  return row && { transactionId: row.transaction_id, globalPosition: Number(row.global_position) };
}

/**
 * Whether events committed after `after` cannot be read yet because an older transaction is still
 * open (they sit at or above the oldest open transaction, where catch-up reads stop).
 */
export async function eventsHeldBack(db: Queryable, after: Checkpoint): Promise<boolean> {
  const { rows } = await db.query<{ held: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM events WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
       AND transaction_id >= pg_snapshot_xmin(pg_current_snapshot())) AS held`,
    [after.transactionId, after.globalPosition],
  );
  return rows[0]?.held === true;
}

/** The NOTIFY channel on which runners announce the checkpoints of awaited projections. */
export function progressChannel(eventsChannel: string): string {
  return `${eventsChannel}.progress`;
}

/** What a progress notification carries: the projection and the checkpoint it committed. */
export interface Progress {
  projection: string;
  at: Checkpoint;
}

/** Sends a progress notification; called inside the transaction that writes the checkpoint. */
export async function notifyProgress(db: Queryable, eventsChannel: string, progress: Progress): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [progressChannel(eventsChannel), JSON.stringify(progress)]);
}

/** The progress a notification payload describes, or undefined for anything else. */
export function parseProgress(payload: unknown): Progress | undefined {
  const value = (typeof payload === 'string' ? safeParse(payload) : payload) as Partial<Progress> | undefined;
  const at = value?.at;
  if (typeof value?.projection !== 'string' || typeof at?.transactionId !== 'string' || typeof at.globalPosition !== 'number') return undefined;
  if (!/^\d+$/.test(at.transactionId)) return undefined;
  return { projection: value.projection, at: { transactionId: at.transactionId, globalPosition: at.globalPosition } };
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
