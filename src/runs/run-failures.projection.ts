import type { RecordedEvent } from '../event-store/event';
import type { Projection, Queryable } from '../event-store/projection';
import { runIdOf, type RunFailed } from '../domain/run/run.events';

/**
 * `run_failures` (migrations/0027): a row per failed run, the queue the failure announcer reads
 * (`RunFailureAnnouncer`). Inline: the row commits with the `RunFailed` (only a failing run's
 * last batch leaves the one-statement run append for the event store's, and the failure is
 * announceable at once). As an async projection it cost every catch-up pass of the worker a
 * transaction and a checkpoint commit, failures or not: the C100 chain of the peers' harness ran
 * beside those passes. `announced_at` is the announcer's: a rebuild keeps it.
 */
export const runFailuresProjection: Projection = {
  name: 'run_failures',
  mode: 'inline',
  handles: ['RunFailed'],
  tables: ['run_failures'],
  operationalColumns: { run_failures: ['announced_at'] },
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
     ON CONFLICT ON CONSTRAINT run_failures_pkey DO NOTHING`,
    [JSON.stringify(failures)],
  );
}
