import type { RunEvent } from '../domain/run/run.events';
import type { RecordedEvent } from '../event-store/event';
import type { Projection, Queryable } from './projection';

const UPSERT_START = `
INSERT INTO run_logs (id, run_id, organization_id, block_id, block_type, attempt, status, started_at, input)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (run_id, block_id, attempt) DO NOTHING`;

const FINISH = `
UPDATE run_logs SET status = $4, finished_at = $5,
  -- Waits carry no duration: it is the time between their start and their end.
  duration_ms = coalesce($6::int, (EXTRACT(EPOCH FROM ($5::timestamptz - started_at)) * 1000)::int),
  output = $7, error = $8
WHERE run_id = $1 AND block_id = $2 AND attempt = $3 AND status IN ('running', 'waiting')`;

/**
 * `run_logs`: one row per step attempt (and per wait), with the recorded input — resolved params,
 * hidden values already `"[hidden]"` — output, error and timings. Async: the step path stays one
 * UPDATE per commit, and the logs follow within a poll interval (at once when the run ends, as
 * its last append notifies).
 */
export const runLogsProjection: Projection = {
  name: 'run_logs',
  mode: 'async',
  handles: ['StepAttemptStarted', 'StepAttemptSucceeded', 'StepAttemptFailed', 'RunSleeping', 'RunWaitingForEvent', 'ApprovalRequested', 'WaitCompleted'],
  tables: ['run_logs'],
  async apply(db, recorded) {
    const event = { type: recorded.type, data: recorded.data } as RunEvent;
    switch (event.type) {
      case 'StepAttemptStarted': {
        const { blockId, blockType, attempt, at, input } = event.data;
        return start(db, recorded, blockId, blockType, attempt, at, input === undefined ? null : JSON.stringify(input));
      }
      case 'StepAttemptSucceeded': {
        const { blockId, attempt, at, durationMs, output } = event.data;
        return finish(db, recorded, blockId, attempt, 'succeeded', at, durationMs, JSON.stringify(output ?? null), null);
      }
      case 'StepAttemptFailed': {
        const { blockId, attempt, at, durationMs, error } = event.data;
        // A wait whose params were rejected fails without having started.
        await start(db, recorded, blockId, 'wait', attempt, at, null);
        return finish(db, recorded, blockId, attempt, 'failed', at, durationMs ?? 0, null, JSON.stringify(error));
      }
      case 'RunSleeping':
        return start(db, recorded, event.data.blockId, 'wait_duration', 1, event.data.at, JSON.stringify({ until: event.data.until }), 'waiting');
      case 'RunWaitingForEvent': {
        const { blockId, at, eventName, correlationKey, until } = event.data;
        return start(db, recorded, blockId, 'wait_for_event', 1, at, JSON.stringify({ eventName, correlationKey, until }), 'waiting');
      }
      case 'ApprovalRequested': {
        const { blockId, at, prompt, until } = event.data;
        return start(db, recorded, blockId, 'human_approval', 1, at, JSON.stringify({ prompt, until }), 'waiting');
      }
      case 'WaitCompleted': {
        const { blockId, at, output } = event.data;
        return finish(db, recorded, blockId, 1, 'succeeded', at, undefined, JSON.stringify(output ?? null), null);
      }
      default:
        return;
    }
  },
};

function runIdOf(event: RecordedEvent): string {
  return event.streamId.slice('run-'.length);
}

async function start(db: Queryable, event: RecordedEvent, blockId: string, blockType: string, attempt: number, at: string, input: string | null, status = 'running'): Promise<void> {
  await db.query(UPSERT_START, [event.globalPosition, runIdOf(event), event.organizationId, blockId, blockType, attempt, status, at, input]);
}

async function finish(
  db: Queryable,
  event: RecordedEvent,
  blockId: string,
  attempt: number,
  status: string,
  at: string,
  durationMs: number | undefined,
  output: string | null,
  error: string | null,
): Promise<void> {
  const duration = durationMs === undefined ? null : Math.round(durationMs);
  await db.query(FINISH, [runIdOf(event), blockId, attempt, status, at, duration, output, error]);
}
