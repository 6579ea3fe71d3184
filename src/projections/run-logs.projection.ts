import type { RunEvent } from '../domain/run/run.events';
import type { RecordedEvent } from '../event-store/event';
import type { Projection, Queryable } from './projection';

/** A log row opened by an attempt's (or a wait's) start. */
interface LogStart {
  id: number;
  runId: string;
  organizationId: string;
  blockId: string;
  blockType: string;
  attempt: number;
  status: 'running' | 'waiting';
  at: string;
  input: string | null;
}

/** The end of an attempt or a wait: closes its row if it is still open. */
interface LogFinish {
  runId: string;
  blockId: string;
  attempt: number;
  status: 'succeeded' | 'failed';
  at: string;
  durationMs: number | null;
  output: string | null;
  error: string | null;
}

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

/**
 * `run_logs`: one row per step attempt (and per wait), with the recorded input — resolved params,
 * hidden values already `"[hidden]"` — output, error and timings. Async: the step path stays one
 * UPDATE per commit, and the logs follow within a poll interval (at once when the run ends, as
 * its last append notifies). A batch of events costs two statements: every start, then every end.
 */
export const runLogsProjection: Projection = {
  name: 'run_logs',
  mode: 'async',
  handles: ['StepAttemptStarted', 'StepAttemptSucceeded', 'StepAttemptFailed', 'RunSleeping', 'RunWaitingForEvent', 'ApprovalRequested', 'WaitCompleted'],
  tables: ['run_logs'],
  apply: (db, event) => writeLogs(db, [event]),
  applyBatch: writeLogs,
};

async function writeLogs(db: Queryable, events: readonly RecordedEvent[]): Promise<void> {
  const starts: LogStart[] = [];
  const finishes = new Map<string, LogFinish>();
  for (const event of events) {
    const { start, finish } = logChanges(event);
    if (start) starts.push(start);
    // A row closes once: the first end wins, as it would applying events one by one.
    const key = finish && JSON.stringify([finish.runId, finish.blockId, finish.attempt]);
    if (finish && key && !finishes.has(key)) finishes.set(key, finish);
  }
  if (starts.length > 0) {
    const s = starts;
    await db.query(INSERT_STARTS, [s.map((r) => r.id), s.map((r) => r.runId), s.map((r) => r.organizationId), s.map((r) => r.blockId), s.map((r) => r.blockType), s.map((r) => r.attempt), s.map((r) => r.status), s.map((r) => r.at), s.map((r) => r.input)]);
  }
  if (finishes.size > 0) {
    const f = [...finishes.values()];
    await db.query(APPLY_FINISHES, [f.map((r) => r.runId), f.map((r) => r.blockId), f.map((r) => r.attempt), f.map((r) => r.status), f.map((r) => r.at), f.map((r) => r.durationMs), f.map((r) => r.output), f.map((r) => r.error)]);
  }
}

/** What one event changes in the log: a row opened, a row closed, or both. */
function logChanges(recorded: RecordedEvent): { start?: LogStart; finish?: LogFinish } {
  const event = { type: recorded.type, data: recorded.data } as RunEvent;
  const opened = (blockId: string, blockType: string, attempt: number, at: string, input: unknown, status: LogStart['status'] = 'running'): LogStart => ({
    id: recorded.globalPosition,
    runId: recorded.streamId.slice('run-'.length),
    organizationId: recorded.organizationId,
    blockId,
    blockType,
    attempt,
    status,
    at,
    input: input === undefined ? null : JSON.stringify(input),
  });
  const closed = (blockId: string, attempt: number, status: LogFinish['status'], at: string, durationMs: number | undefined, output: unknown, error: unknown): LogFinish => ({
    runId: recorded.streamId.slice('run-'.length),
    blockId,
    attempt,
    status,
    at,
    durationMs: durationMs === undefined ? null : Math.round(durationMs),
    output: output === undefined ? null : JSON.stringify(output),
    error: error === undefined ? null : JSON.stringify(error),
  });
  switch (event.type) {
    case 'StepAttemptStarted': {
      const { blockId, blockType, attempt, at, input } = event.data;
      return { start: opened(blockId, blockType, attempt, at, input) };
    }
    case 'StepAttemptSucceeded': {
      const { blockId, attempt, at, durationMs, output } = event.data;
      return { finish: closed(blockId, attempt, 'succeeded', at, durationMs, output ?? null, undefined) };
    }
    case 'StepAttemptFailed': {
      const { blockId, attempt, at, durationMs, error } = event.data;
      // A wait whose params were rejected fails without having started: open and close its row.
      return { start: opened(blockId, 'wait', attempt, at, undefined), finish: closed(blockId, attempt, 'failed', at, durationMs ?? 0, undefined, error) };
    }
    case 'RunSleeping':
      return { start: opened(event.data.blockId, 'wait_duration', 1, event.data.at, { until: event.data.until }, 'waiting') };
    case 'RunWaitingForEvent': {
      const { blockId, at, eventName, correlationKey, until } = event.data;
      return { start: opened(blockId, 'wait_for_event', 1, at, { eventName, correlationKey, until }, 'waiting') };
    }
    case 'ApprovalRequested': {
      const { blockId, at, prompt, until } = event.data;
      return { start: opened(blockId, 'human_approval', 1, at, { prompt, until }, 'waiting') };
    }
    case 'WaitCompleted': {
      const { blockId, at, output } = event.data;
      return { finish: closed(blockId, 1, 'succeeded', at, undefined, output ?? null, undefined) };
    }
    default:
      return {};
  }
}
