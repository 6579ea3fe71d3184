import type { RecordedEvent } from '../event-store/event';
import type { Projection, Queryable } from '../event-store/projection';
import { logChanges, type LogFinish, type LogRunEnd, type LogStart } from './run-log-changes';

// A row whose attempt also ended in this batch is written closed, as the finish below would leave
// it (same duration rule): one version of the row instead of an insert and an update.
// Rows travel as one JSON parameter (as `schedule-ticks.ts`'s do), not as parallel arrays: pg
// builds array literals in JavaScript, escaping each element, and the JSON texts of inputs and
// outputs are mostly quotes to escape. JSON text columns are cast in SQL, so a step that
// returned null keeps the JSON null it records (a JSON null in the parameter is SQL NULL).
const INSERT_STARTS = `
INSERT INTO run_logs (id, run_id, organization_id, block_id, block_type, attempt, status, started_at, input,
  finished_at, duration_ms, output, error)
SELECT s.id, s.run_id, s.organization_id, s.block_id, s.block_type, s.attempt, s.status, s.started_at, s.input::jsonb, s.finished_at,
  CASE WHEN s.finished_at IS NOT NULL THEN coalesce(s.duration_ms, (EXTRACT(EPOCH FROM (s.finished_at - s.started_at)) * 1000)::int) END,
  s.output::jsonb, s.error::jsonb
FROM json_to_recordset($1::json) AS s(id bigint, run_id text, organization_id text, block_id text, block_type text, attempt int,
  status text, started_at timestamptz, input text, finished_at timestamptz, duration_ms int, output text, error text)
ON CONFLICT ON CONSTRAINT run_logs_attempt_unique DO NOTHING
RETURNING run_id, block_id, attempt`;

const APPLY_FINISHES = `
UPDATE run_logs SET status = f.status, finished_at = f.at,
  -- Waits carry no duration: it is the time between their start and their end.
  duration_ms = coalesce(f.duration_ms, (EXTRACT(EPOCH FROM (f.at - run_logs.started_at)) * 1000)::int),
  output = f.output::jsonb, error = f.error::jsonb
FROM json_to_recordset($1::json) AS f(run_id text, block_id text, attempt int, status text, at timestamptz, duration_ms int,
  output text, error text)
WHERE run_logs.run_id = f.run_id AND run_logs.block_id = f.block_id AND run_logs.attempt = f.attempt
  AND run_logs.status IN ('running', 'waiting')`;

// The end's own recorded time, never now(): a rebuild closes the rows exactly as the live run did.
const APPLY_RUN_ENDS = `
UPDATE run_logs SET status = e.status, finished_at = e.at,
  duration_ms = greatest(0, (EXTRACT(EPOCH FROM (e.at - run_logs.started_at)) * 1000)::int)
FROM json_to_recordset($1::json) AS e(run_id text, status text, at timestamptz)
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
    const rows = [...starts].map(([key, start]) => startRow(start, finishes.get(key)));
    const { rows: inserted } = await db.query<{ run_id: string; block_id: string; attempt: number }>(INSERT_STARTS, [JSON.stringify(rows)]);
    // Written closed: their finish is done. A start that met an existing row did nothing, so its
    // finish still applies to that row below, as it would one event at a time.
    for (const row of inserted) finishes.delete(rowKey({ runId: row.run_id, blockId: row.block_id, attempt: row.attempt }));
  }
  if (finishes.size > 0) {
    const rows = [...finishes.values()].map((f) => ({ run_id: f.runId, block_id: f.blockId, attempt: f.attempt, status: f.status, at: f.at, duration_ms: f.durationMs, output: f.output, error: f.error }));
    await db.query(APPLY_FINISHES, [JSON.stringify(rows)]);
  }
  if (ends.size > 0) {
    const rows = [...ends.values()].map((e) => ({ run_id: e.runId, status: e.status, at: e.at }));
    await db.query(APPLY_RUN_ENDS, [JSON.stringify(rows)]);
  }
}

/** NUL joins the parts: no Postgres text value holds it, so keys are equal only when every part is. */
const rowKey = (row: { runId: string; blockId: string; attempt: number }): string => `${row.runId}\u0000${row.blockId}\u0000${row.attempt}`;

/** A start's row for `INSERT_STARTS`, written closed when its finish is in the same batch. */
function startRow(start: LogStart, finish: LogFinish | undefined) {
  return {
    id: start.id,
    run_id: start.runId,
    organization_id: start.organizationId,
    block_id: start.blockId,
    block_type: start.blockType,
    attempt: start.attempt,
    status: finish?.status ?? start.status,
    started_at: start.at,
    input: start.input,
    finished_at: finish?.at ?? null,
    duration_ms: finish?.durationMs ?? null,
    output: finish?.output ?? null,
    error: finish?.error ?? null,
  };
}
