import { Client, type Pool } from 'pg';
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

/** What a lock probe saw: how many rounds it ran and the errors it met. */
export interface ProbeReport {
  rounds: number;
  errors: string[];
}

/**
 * A session doing what the API and the worker do to `run_state` — read it, pick claimable rows
 * `FOR UPDATE SKIP LOCKED`, update a row — each round with `lock_timeout = 1s`, then rolling
 * back. A round that waits over a second for a lock fails with `lock_not_available`: that is
 * how the test sees a blocked writer without measuring time.
 */
export function startLockProbe(db: TestDatabase, rowId: string): { stop(): Promise<ProbeReport> } {
  const client = new Client({ connectionString: db.url, options: `-c search_path=${db.schema}` });
  const report: ProbeReport = { rounds: 0, errors: [] };
  let stopping = false;
  const loop = (async () => {
    await client.connect();
    while (!stopping) {
      try {
        await client.query('BEGIN');
        await client.query(`SET LOCAL lock_timeout = '1s'`);
        await client.query('SELECT count(*) FROM run_state');
        await client.query(
          `SELECT run_id FROM run_state WHERE available_at <= now() AND (lease_until IS NULL OR lease_until < now())
           ORDER BY available_at LIMIT 5 FOR UPDATE SKIP LOCKED`,
        );
        await client.query('UPDATE run_state SET updated_at = updated_at WHERE run_id = $1', [rowId]);
        report.rounds += 1;
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
