import type { Pool } from 'pg';

/** Counts stop here: a scrape stays cheap however deep the backlog. */
export const COUNT_BOUND = 100_000;

/** Runs due now with no live lease: what the claim query would pick from. */
export async function runnableQueueDepth(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ depth: number }>(
    `SELECT count(*)::int AS depth FROM (
       SELECT 1 FROM run_state WHERE available_at <= now() AND (lease_until IS NULL OR lease_until < now()) LIMIT $1
     ) due`,
    [COUNT_BOUND],
  );
  return rows[0]?.depth ?? 0;
}

/** Events committed after each projection's checkpoint, in commit order (no checkpoint = from the start). */
export async function projectionLag(pool: Pool, projections: readonly string[]): Promise<Map<string, number>> {
  if (projections.length === 0) return new Map();
  const { rows } = await pool.query<{ name: string; lag: number }>(
    `SELECT p.name, (
       SELECT count(*)::int FROM (
         SELECT 1 FROM events e
         WHERE (e.transaction_id, e.global_position) > (COALESCE(c.transaction_id, '0'::xid8), COALESCE(c.global_position, 0))
         LIMIT $2
       ) behind
     ) AS lag
     FROM unnest($1::text[]) AS p(name) LEFT JOIN projection_checkpoints c ON c.name = p.name`,
    [projections, COUNT_BOUND],
  );
  return new Map(rows.map((row) => [row.name, row.lag]));
}

/**
 * How far the audit sealer is behind, in seconds: the age of the first event after its
 * checkpoint in commit order (0 when every event is sealed).
 */
export async function sealingLagSeconds(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ lag: number }>(
    `SELECT coalesce(extract(epoch FROM clock_timestamp() - (
       SELECT e.recorded_at FROM events e, projection_checkpoints c
       WHERE c.name = 'audit_sealer' AND (e.transaction_id, e.global_position) > (c.transaction_id, c.global_position)
       ORDER BY e.transaction_id, e.global_position LIMIT 1
     )), 0)::float8 AS lag`,
  );
  return Math.max(0, rows[0]?.lag ?? 0);
}
