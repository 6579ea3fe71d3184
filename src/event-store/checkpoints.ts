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

/**
 * Writes the checkpoint; with `notifyOn` (an events channel) it also announces it as progress
 * (see `parseProgress`) in the same statement, so the notification goes out iff it commits.
 */
export async function writeCheckpoint(db: Queryable, name: string, at: Checkpoint, notifyOn?: string): Promise<void> {
  await db.query(
    `WITH written AS (
       INSERT INTO projection_checkpoints (name, transaction_id, global_position, updated_at)
       VALUES ($1, $2::xid8, $3, now())
       ON CONFLICT (name) DO UPDATE SET transaction_id = EXCLUDED.transaction_id,
         global_position = EXCLUDED.global_position, updated_at = EXCLUDED.updated_at
       RETURNING 1
     )
     SELECT pg_notify($4::text, $5::text) FROM written WHERE $4::text IS NOT NULL`,
    [name, at.transactionId, at.globalPosition, notifyOn ? progressChannel(notifyOn) : null, notifyOn ? JSON.stringify({ projection: name, at }) : null],
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
 * The checkpoint a runner's pass starts from and, when `askHeldBack`, whether events committed
 * after it cannot be read yet because an older transaction is still open (they sit at or above
 * the oldest open transaction, where catch-up reads stop) — one round trip for both. Such an event
 * exists exactly when the last visible event in commit order is one (one step of a backward
 * index scan): an EXISTS over the range made the planner scan the whole unread backlog on every
 * pass, which made a catch-up over a long backlog quadratic.
 */
export async function readCheckpointForPass(db: Queryable, name: string, askHeldBack: boolean): Promise<{ from: Checkpoint; heldBack: boolean }> {
  const { rows } = await db.query<{ transaction_id: string; global_position: string; held: boolean | null }>(
    `SELECT c.transaction_id::text AS transaction_id, c.global_position,
       last.transaction_id >= pg_snapshot_xmin(pg_current_snapshot()) AND (last.transaction_id, last.global_position) > (c.transaction_id, c.global_position) AS held
     FROM projection_checkpoints c
     LEFT JOIN LATERAL (
       SELECT e.transaction_id, e.global_position FROM events e WHERE $2::boolean
       ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1
     ) last ON true
     WHERE c.name = $1`,
    [name, askHeldBack],
  );
  const row = rows[0];
  if (!row) return { from: { transactionId: '0', globalPosition: 0 }, heldBack: false };
  return { from: { transactionId: row.transaction_id, globalPosition: Number(row.global_position) }, heldBack: row.held === true };
}

/** The NOTIFY channel on which runners announce the checkpoints of awaited projections. */
export function progressChannel(eventsChannel: string): string {
  return `${eventsChannel}.progress`;
}

/**
 * The NOTIFY channel on which a reader waiting for a projection (`CheckpointWaiter`) asks the
 * runners applying it to catch up now rather than after their pass gap.
 */
export function wantedChannel(eventsChannel: string): string {
  return `${eventsChannel}.wanted`;
}

/** The projection a "wanted" notification names, or undefined for anything else. */
export function parseWanted(payload: unknown): string | undefined {
  const value = (typeof payload === 'string' ? safeParse(payload) : payload) as { projection?: unknown } | undefined;
  return typeof value?.projection === 'string' ? value.projection : undefined;
}

/** What a progress notification carries: the projection and the checkpoint it committed. */
export interface Progress {
  projection: string;
  at: Checkpoint;
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
