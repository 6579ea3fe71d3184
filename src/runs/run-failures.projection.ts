import type { RecordedEvent } from '../event-store/event';
import type { Projection, Queryable } from '../event-store/projection';
import { runIdOf, type RunFailed } from '../domain/run/run.events';

/**
 * `run_failures` (migrations/0027): a row per failed run, the queue the failure announcer reads
 * (`RunFailureAnnouncer`). Async: a failing run's batch keeps its one-statement write, and the
 * announcement may come a moment later. `announced_at` is the announcer's; a rebuild leaves it
 * empty, and the announcer's window and the publication's idempotency key keep an old failure
 * from being announced again.
 */
export const runFailuresProjection: Projection = {
  name: 'run_failures',
  mode: 'async',
  handles: ['RunFailed'],
  tables: ['run_failures'],
  apply: (db, event) => insertFailures(db, [event]),
  applyBatch: insertFailures,
};

async function insertFailures(db: Queryable, events: readonly RecordedEvent[]): Promise<void> {
  if (events.length === 0) return;
  const failures = events.map((event) => ({ run_id: runIdOf(event.streamId), organization_id: event.organizationId, error: (event.data as RunFailed['data']).error, failed_at: event.recordedAt }));
  await db.query(
    `INSERT INTO run_failures (run_id, organization_id, error, failed_at)
     SELECT run_id, organization_id, error, failed_at FROM json_to_recordset($1::json)
       AS f(run_id text, organization_id text, error jsonb, failed_at timestamptz)
     ON CONFLICT (run_id) DO NOTHING`,
    [JSON.stringify(failures)],
  );
}
