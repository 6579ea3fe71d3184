import { runIdOf, type RunEvent } from '../domain/run/run.events';
import type { RecordedEvent } from '../event-store/event';

/** A log row opened by an attempt's (or a wait's) start. */
export interface LogStart {
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
export interface LogFinish {
  runId: string;
  blockId: string;
  attempt: number;
  status: 'succeeded' | 'failed';
  at: string;
  durationMs: number | null;
  output: string | null;
  error: string | null;
}

/**
 * The run's end: closes every row of the run still open, at the end's recorded time — `cancelled`
 * when the run was cancelled, `abandoned` when it failed without that attempt or wait recording
 * an end (e.g. a parallel branch aborted by another branch's failure). A completed run has no
 * open row (every block settled), so `RunCompleted` is not read: the common end costs nothing.
 */
export interface LogRunEnd {
  runId: string;
  status: 'cancelled' | 'abandoned';
  at: string;
}

/** What one event changes in the log: a row opened, a row closed, or the run's open rows closed. */
export interface LogChanges {
  start?: LogStart;
  finish?: LogFinish;
  end?: LogRunEnd;
}

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

/** Pure: the log changes of one recorded run event (none for the events the log ignores). */
export function logChanges(recorded: RecordedEvent): LogChanges {
  const event = { type: recorded.type, data: recorded.data } as RunEvent;
  const runId = runIdOf(recorded.streamId);
  const opened = (blockId: string, blockType: string, attempt: number, at: string, input: unknown, status: LogStart['status'] = 'running'): LogStart => ({
    id: recorded.globalPosition,
    runId,
    organizationId: recorded.organizationId,
    blockId,
    blockType,
    attempt,
    status,
    at,
    input: json(input),
  });
  const closed = (blockId: string, attempt: number, status: LogFinish['status'], at: string, durationMs: number | undefined, output: unknown, error: unknown): LogFinish => ({
    runId,
    blockId,
    attempt,
    status,
    at,
    durationMs: durationMs === undefined ? null : Math.round(durationMs),
    output: json(output),
    error: json(error),
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
    case 'StepReused': {
      // A rerun's block that took its output from the run rerun: one closed row, attempt 0.
      const { blockId, blockType, fromRunId, output, at } = event.data;
      return { start: opened(blockId, blockType, 0, at, { reusedFrom: fromRunId }), finish: closed(blockId, 0, 'succeeded', at, 0, output ?? null, undefined) };
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
    case 'RunCancelled':
      return { end: { runId, status: 'cancelled', at: event.data.at } };
    case 'RunFailed':
      return { end: { runId, status: 'abandoned', at: event.data.at } };
    default:
      return {};
  }
}
