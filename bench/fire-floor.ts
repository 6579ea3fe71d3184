import type { Pool, PoolClient } from 'pg';
import { machineBusyMs, round, siblingSchema, type BenchDatabase } from './support';

/**
 * The database's floor under issue 10's 10,000-schedule figure: the rows the issue requires of
 * every fire, written set-wise with the row contents built in SQL, so no application code runs at
 * all. Per fire: the run's `RunStarted` event, its `run_state` row and its idempotency key
 * (`sched:<id>:<tick>`), the schedule's `ScheduleFired` event, its ledger claim (unique per
 * schedule and tick) and its row moved to the next tick — the same rows and indexes a real pass
 * writes (their counts checked against `pg_stat_user_tables` after a real pass). Each batch holds
 * its due rows with `FOR UPDATE SKIP LOCKED` in one transaction, as a pass does.
 *
 * It is a measuring stick, not a second scheduler: the time it takes is what any pass, however
 * lean its application side, must spend before the last of the 10,000 has fired. On this 2-core
 * VM it is 0.7–0.95 s of the 1 s the p99 target allows (docs/benchmark-history.md).
 */
export async function fireFloor(db: BenchDatabase, schedules: number, batch: number, lanes: number): Promise<Record<string, unknown>> {
  const floor = await siblingSchema(db);
  const pool = floor.pool(lanes);
  try {
    await dueSchedules(pool, schedules);
    const before = machineBusyMs();
    const began = performance.now();
    let fired = 0;
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        for (let n = -1; n !== 0; fired += n) n = await fireBatch(pool, batch);
      }),
    );
    const ms = performance.now() - began;
    const after = machineBusyMs();
    if (fired !== schedules) throw new Error(`the floor fired ${fired} of ${schedules} schedules`);
    return {
      fired,
      batch,
      lanes,
      all_fired_ms: round(ms, 0),
      machine_cpu_ms_per_fire: round((after - before) / fired, 3),
    };
  } finally {
    await floor.close();
  }
}

const ORG = 'floor-org';
const TICK = '2026-12-05T09:00:00.000Z';

/** `count` hourly schedules due at TICK, each with its creation event (stream version 1). */
async function dueSchedules(pool: Pool, count: number): Promise<void> {
  await pool.query(
    `INSERT INTO schedules (schedule_id, organization_id, workflow_id, source, cron, timezone, input, overlap, catchup_window_sec, state,
       cursor_at, next_fire_at, stream_version, created_at, updated_at)
     SELECT gen_random_uuid()::text, $1, 'floor-workflow', 'api', '0 * * * *', 'UTC', '{}', 'allow', 60, 'active',
       $2::timestamptz - interval '1 hour', $2::timestamptz, 1, now(), now()
     FROM generate_series(1, $3)`,
    [ORG, TICK, count],
  );
  await pool.query(`INSERT INTO events (stream_id, stream_version, organization_id, type, data) SELECT 'schedule-' || schedule_id, 1, organization_id, 'ScheduleCreated', '{}' FROM schedules`);
  await pool.query('ANALYZE');
}

/** One transaction: up to `batch` due schedules fired; how many. */
async function fireBatch(pool: Pool, batch: number): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ schedule_id: string }>(
      `SELECT schedule_id FROM schedules WHERE next_fire_at <= $1 ORDER BY next_fire_at FOR UPDATE SKIP LOCKED LIMIT ${batch}`,
      [TICK],
    );
    if (rows.length > 0) await fire(client, rows.map((row) => row.schedule_id));
    await client.query('COMMIT');
    return rows.length;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

async function fire(client: PoolClient, scheduleIds: string[]): Promise<void> {
  await client.query(`CREATE TEMP TABLE IF NOT EXISTS fires (schedule_id text, run_id text) ON COMMIT DELETE ROWS`);
  await client.query(`INSERT INTO fires SELECT id, gen_random_uuid()::text FROM unnest($1::text[]) id`, [scheduleIds]);
  const key = `'sched:' || schedule_id || ':' || $2`;
  await client.query(
    `INSERT INTO idempotency_keys (organization_id, scope, key, request_hash, result)
     SELECT $1, 'run-start', ${key}, md5(schedule_id), json_build_object('runId', run_id) FROM fires`,
    [ORG, TICK],
  );
  await client.query(
    `INSERT INTO events (stream_id, stream_version, organization_id, type, data, metadata)
     SELECT 'run-' || run_id, 1, $1, 'RunStarted',
       jsonb_build_object('input', jsonb_build_object('timezone', 'UTC', 'scheduleId', schedule_id, 'scheduledAt', $2::text, 'lastScheduledAt', null),
         'runId', run_id, 'startedAt', now(), 'definition', md5(schedule_id) || md5(run_id), 'workflowId', 'floor-workflow',
         'organizationId', $1::text, 'workflowVersion', 2),
       jsonb_build_object('actor', jsonb_build_object('id', schedule_id, 'type', 'schedule'), 'correlationId', ${key})
     FROM fires`,
    [ORG, TICK],
  );
  await client.query(
    `INSERT INTO run_state (run_id, organization_id, workflow_id, workflow_version, seq, status, stream_version, created_at, started_at, updated_at, available_at)
     SELECT run_id, $1, 'floor-workflow', 2, 1, 'queued', 1, now(), now(), now(), now() FROM fires`,
    [ORG],
  );
  await client.query(
    `WITH fired AS (
       INSERT INTO events (stream_id, stream_version, organization_id, type, data, metadata)
       SELECT 'schedule-' || schedule_id, 2, $1, 'ScheduleFired',
         jsonb_build_object('tick', $2::text, 'runId', run_id, 'origin', 'schedule', 'lastScheduledAt', null), '{"actor": {"id": "bench", "type": "system"}}'
       FROM fires
       RETURNING global_position, stream_id, data->>'runId' AS run_id)
     INSERT INTO schedule_ticks (global_position, schedule_id, organization_id, tick, outcome, run_id, origin, recorded_at)
     SELECT global_position, substr(stream_id, length('schedule-') + 1), $1, $2::timestamptz, 'fired', run_id, 'schedule', now() FROM fired`,
    [ORG, TICK],
  );
  await client.query(
    `UPDATE schedules s SET cursor_at = $1::timestamptz, next_fire_at = $1::timestamptz + interval '1 hour', stream_version = 2, updated_at = now(),
       last_run_id = f.run_id, last_scheduled_at = $1::timestamptz
     FROM fires f WHERE s.schedule_id = f.schedule_id`,
    [TICK],
  );
}
