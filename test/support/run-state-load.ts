import { Client, type Pool } from 'pg';
import { REBUILD_LOCK_KEY_SQL } from '../../src/projections/live-rebuild';
import type { TestDatabase } from './database';

/**
 * Copies a finished run `copies` times — its events (same payloads and `recorded_at`, the run id
 * renamed) and its `run_state` row — so a rebuild has a long history to replay without the test
 * running thousands of runs. The copies are what the projection would have written for them.
 */
export async function cloneFinishedRun(pool: Pool, runId: string, copies: number): Promise<void> {
  await pool.query(
    `INSERT INTO events (stream_id, stream_version, organization_id, type, data, metadata, recorded_at)
     SELECT 'run-' || $1 || '-' || g, e.stream_version, e.organization_id, e.type,
       CASE WHEN e.type = 'RunStarted' THEN jsonb_set(e.data, '{runId}', to_jsonb($1 || '-' || g)) ELSE e.data END,
       e.metadata, e.recorded_at
     FROM generate_series(1, $2::int) AS g CROSS JOIN events e WHERE e.stream_id = 'run-' || $1
     ORDER BY g, e.stream_version`,
    [runId, copies],
  );
  await pool.query(
    `INSERT INTO run_state (run_id, organization_id, workflow_id, workflow_version, seq, status, stream_version, error,
       waiting_for, created_at, started_at, ended_at, updated_at, available_at, lease_owner, lease_until, lease_epoch)
     SELECT $1 || '-' || g, r.organization_id, r.workflow_id, r.workflow_version, e.global_position, r.status, r.stream_version,
       r.error, r.waiting_for, r.created_at, r.started_at, r.ended_at, r.updated_at, r.available_at, r.lease_owner,
       r.lease_until, r.lease_epoch
     FROM run_state r CROSS JOIN generate_series(1, $2::int) AS g
     JOIN events e ON e.stream_id = 'run-' || $1 || '-' || g AND e.stream_version = 1
     WHERE r.run_id = $1`,
    [runId, copies],
  );
}

/** What a lock probe saw: the rounds it ran wholly while the rebuild replayed unlocked, and the errors it met. */
export interface ProbeReport {
  duringReplay: number;
  errors: string[];
}

/**
 * Whether a `run_state` rebuild runs (its session holds the rebuild's advisory
 * lock, src/projections/live-rebuild.ts) and whether it is swapping in (it holds `run_state` in
 * `EXCLUSIVE` mode, which writers wait for).
 */
const REBUILD_STATE = `SELECT
  EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
    AND ((classid::bigint << 32) | objid::bigint) = ${REBUILD_LOCK_KEY_SQL("'run_state'")}::bigint) AS rebuilding,
  EXISTS (SELECT 1 FROM pg_locks WHERE relation = 'run_state'::regclass AND mode = 'ExclusiveLock' AND granted AND pid <> pg_backend_pid()) AS swapping`;

async function rebuildState(client: Client): Promise<{ replaying: boolean }> {
  const { rows } = await client.query<{ rebuilding: boolean; swapping: boolean }>(REBUILD_STATE);
  return { replaying: Boolean(rows[0]?.rebuilding && !rows[0].swapping) };
}

/**
 * A session doing what the API and the worker do to `run_state` — read it, pick claimable rows
 * `FOR UPDATE SKIP LOCKED`, update a row — round after round, each rolled back. It counts the
 * rounds that began and ended while the rebuild replayed without its lock: writers are
 * held only while the rebuild swaps in, never while it replays. Seen from the locks each round
 * begins and ends under, not from how long a round took: a writer may wait behind the short swap however
 * slow the machine is (`lock_timeout` only ends a round stuck for good).
 */
export function startLockProbe(db: TestDatabase, rowId: string): { stop(): Promise<ProbeReport> } {
  const client = new Client({ connectionString: db.url, options: `-c search_path=${db.schema}` });
  const report: ProbeReport = { duringReplay: 0, errors: [] };
  let stopping = false;
  const loop = (async () => {
    await client.connect();
    while (!stopping) {
      try {
        const before = await rebuildState(client);
        await client.query('BEGIN');
        await client.query(`SET LOCAL lock_timeout = '60s'`);
        await client.query('SELECT count(*) FROM run_state');
        await client.query(
          `SELECT run_id FROM run_state WHERE available_at <= now() AND (lease_until IS NULL OR lease_until < now())
           ORDER BY available_at LIMIT 5 FOR UPDATE SKIP LOCKED`,
        );
        await client.query('UPDATE run_state SET updated_at = updated_at WHERE run_id = $1', [rowId]);
        const after = await rebuildState(client);
        if (before.replaying && after.replaying) report.duringReplay += 1;
      } catch (error) {
        report.errors.push(`${(error as { code?: string }).code}: ${(error as Error).message}`);
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await client.end();
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
      return report;
    },
  };
}
