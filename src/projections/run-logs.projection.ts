import type { RecordedEvent } from '../event-store/event';
import type { Projection, Queryable } from '../event-store/projection';
import { logChanges, type LogFinish, type LogRunEnd, type LogStart } from './run-log-changes';

const INSERT_STARTS = `
INSERT INTO run_logs (id, run_id, organization_id, block_id, block_type, attempt, status, started_at, input)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::timestamptz[], $9::jsonb[])
ON CONFLICT (run_id, block_id, attempt) DO NOTHING`;

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
 * order, which is the order of any run's own events (a run's end is its last log event).
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
  const starts: LogStart[] = [];
  const finishes = new Map<string, LogFinish>();
  const ends = new Map<string, LogRunEnd>();
  for (const event of events) {
    const { start, finish, end } = logChanges(event);
    if (start) starts.push(start);
    // A row closes once: the first end wins, as it would applying events one by one.
    const key = finish && JSON.stringify([finish.runId, finish.blockId, finish.attempt]);
    if (finish && key && !finishes.has(key)) finishes.set(key, finish);
    if (end && !ends.has(end.runId)) ends.set(end.runId, end);
  }
  if (starts.length > 0) {
    const s = starts;
    await db.query(INSERT_STARTS, [s.map((r) => r.id), s.map((r) => r.runId), s.map((r) => r.organizationId), s.map((r) => r.blockId), s.map((r) => r.blockType), s.map((r) => r.attempt), s.map((r) => r.status), s.map((r) => r.at), s.map((r) => r.input)]);
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
