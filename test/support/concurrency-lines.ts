import type { Pool } from 'pg';

/**
 * The most of `runIds` admitted to their concurrency line and not ended at once, in the store's
 * commit order: what a concurrency limit must never let past it.
 */
export async function mostAdmittedAtOnce(pool: Pool, runIds: string[]): Promise<number> {
  const { rows } = await pool.query(
    `SELECT type FROM events WHERE stream_id = ANY($1) AND type IN ('RunAdmitted', 'RunCompleted', 'RunFailed', 'RunCancelled') ORDER BY global_position`,
    [runIds.map((id) => `run-${id}`)],
  );
  let now = 0;
  let most = 0;
  for (const { type } of rows as { type: string }[]) {
    now += type === 'RunAdmitted' ? 1 : -1;
    most = Math.max(most, now);
  }
  return most;
}
