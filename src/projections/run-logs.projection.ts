import type { RecordedEvent } from '../event-store/event';
import type { Projection, Queryable } from '../event-store/projection';
import { logChanges, type LogFinish, type LogRunEnd, type LogStart } from './run-log-changes';

// A row whose attempt also ended in this batch is written closed, as the finish below would leave
// it (same duration rule): one version of the row instead of an insert and an update.
const INSERT_STARTS = `
INSERT INTO run_logs (id, run_id, organization_id, block_id, block_type, attempt, status, started_at, input,
  finished_at, duration_ms, output, error)
SELECT s.id, s.run_id, s.organization_id, s.block_id, s.block_type, s.attempt, s.status, s.started_at, s.input, s.finished_at,
  CASE WHEN s.finished_at IS NOT NULL THEN coalesce(s.duration_ms, (EXTRACT(EPOCH FROM (s.finished_at - s.started_at)) * 1000)::int) END,
  s.output, s.error
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::timestamptz[], $9::jsonb[],
  $10::timestamptz[], $11::int[], $12::jsonb[], $13::jsonb[])
  AS s(id, run_id, organization_id, block_id, block_type, attempt, status, started_at, input, finished_at, duration_ms, output, error)
ON CONFLICT ON CONSTRAINT run_logs_attempt_unique DO NOTHING
RETURNING run_id, block_id, attempt`;

const APPLY_FINISHES = `
UPDATE run_logs SET status = f.status, finished_at = f.at,
  -- Waits carry no duration: it is the time between their start and their end.
  duration_ms = coalesce(f.duration_ms, (EXTRACT(EPOCH FROM (f.at - run_logs.started_at)) * 1000)::int),
  output = f.output, error = f.error
FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::timestamptz[], $6::int[], $7::jsonb[], $8::jsonb[])
  AS f(run_id, block_id, attempt, status, at, duration_ms, output, error)
WHERE run_logs.run_id = f.run_id AND run_logs.block_id = f.block_id AND run_logs.attempt = f.attempt
  AND run_logs.status IN ('running', 'waiting')`;

// The end's own recorded time, never now(): a rebuild closes the rows exactly as the live run did.
const APPLY_RUN_ENDS = `
UPDATE run_logs SET status = e.status, finished_at = e.at,
  duration_ms = greatest(0, (EXTRACT(EPOCH FROM (e.at - run_logs.started_at)) * 1000)::int)
FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS e(run_id, status, at)
WHERE run_logs.run_id = e.run_id AND run_logs.status IN ('running', 'waiting')`;

/**
 * `run_logs`: one row per step attempt (and per wait), with the recorded input — resolved params,
 * hidden values already `"[hidden]"` — output, error and timings. Async: the step path stays one
 * UPDATE per commit; readers wait for the checkpoint to cover the run (`awaited`: the runner
 * announces its progress), and the run's last append notifies, so a finished run's logs follow
 * at once. The run's end closes the rows it left open (`LogRunEnd`). A batch of events costs at
 * most three statements: every start, every end of an attempt, every end of a run — in that
 * order, which is the order of any run's own events (a run's end is its last log event). An
 * attempt that starts and ends in one batch is written once, closed: an insert and then an update
 * of the same row wrote it twice, with its three index entries twice (the row's page is full by
 * then, so the update cannot stay on it).
 */
export const runLogsProjection: Projection = {
  name: 'run_logs',
  mode: 'async',
  awaited: true,
  handles: [
    'StepAttemptStarted',
    'StepAttemptSucceeded',
    'StepAttemptFailed',
    'StepReused',
    'RunSleeping',
    'RunWaitingForEvent',
    'ApprovalRequested',
    'WaitCompleted',
    'RunCancelled',
    'RunFailed',
  ],
  tables: ['run_logs'],
  apply: (db, event) => writeLogs(db, [event]),
  applyBatch: writeLogs,
};

async function writeLogs(db: Queryable, events: readonly RecordedEvent[]): Promise<void> {
  const starts = new Map<string, LogStart>();
  const finishes = new Map<string, LogFinish>();
  const ends = new Map<string, LogRunEnd>();
  for (const event of events) {
    const { start, finish, end } = logChanges(event);
    // A row opens once and closes once: the first start and the first end win, as they would
    // applying events one by one (a later start of the same attempt conflicts and does nothing).
    const startKey = start && rowKey(start);
    if (start && startKey && !starts.has(startKey)) starts.set(startKey, start);
    const finishKey = finish && rowKey(finish);
    if (finish && finishKey && !finishes.has(finishKey)) finishes.set(finishKey, finish);
    if (end && !ends.has(end.runId)) ends.set(end.runId, end);
  }
  if (starts.size > 0) {
    const s = [...starts.values()];
    const f = [...starts.keys()].map((key) => finishes.get(key));
    const { rows } = await db.query<{ run_id: string; block_id: string; attempt: number }>(INSERT_STARTS, [
      s.map((r) => r.id), s.map((r) => r.runId), s.map((r) => r.organizationId), s.map((r) => r.blockId), s.map((r) => r.blockType),
      s.map((r) => r.attempt), s.map((r, i) => f[i]?.status ?? r.status), s.map((r) => r.at), s.map((r) => r.input),
      f.map((r) => r?.at ?? null), f.map((r) => r?.durationMs ?? null), f.map((r) => r?.output ?? null), f.map((r) => r?.error ?? null),
    ]);
    // Written closed: their finish is done. A start that met an existing row did nothing, so its
    // finish still applies to that row below, as it would one event at a time.
    for (const row of rows) finishes.delete(rowKey({ runId: row.run_id, blockId: row.block_id, attempt: row.attempt }));
  }
  if (finishes.size > 0) {
    const f = [...finishes.values()];
    await db.query(APPLY_FINISHES, [f.map((r) => r.runId), f.map((r) => r.blockId), f.map((r) => r.attempt), f.map((r) => r.status), f.map((r) => r.at), f.map((r) => r.durationMs), f.map((r) => r.output), f.map((r) => r.error)]);
  }
  if (ends.size > 0) {
    const e = [...ends.values()];
    await db.query(APPLY_RUN_ENDS, [e.map((r) => r.runId), e.map((r) => r.status), e.map((r) => r.at)]);
  }
}

const rowKey = (row: { runId: string; blockId: string; attempt: number }): string => JSON.stringify([row.runId, row.blockId, row.attempt]);
