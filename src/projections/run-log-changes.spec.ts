import type { RecordedEvent } from '../event-store/event';
import { logChanges } from './run-log-changes';

const recorded = (type: string, data: unknown, globalPosition = 9): RecordedEvent => ({
  globalPosition,
  transactionId: '100',
  streamId: 'run-r1',
  streamVersion: 3,
  organizationId: 'org',
  type,
  data,
  metadata: { actor: { type: 'system', id: 'test' } },
  // Deliberately unlike the data's `at`: the log takes the fact's own time.
  recordedAt: new Date('2030-01-01T00:00:00.000Z'),
  recordedAtExact: '2030-01-01T00:00:00.000000Z',
});

describe('logChanges', () => {
  it('opens a row when an attempt starts and closes it when it succeeds', () => {
    expect(logChanges(recorded('StepAttemptStarted', { blockId: 'a', blockType: 'transform', attempt: 1, at: '2025-01-01T00:00:00.000Z', input: { x: 1 } }))).toEqual({
      start: { id: 9, runId: 'r1', organizationId: 'org', blockId: 'a', blockType: 'transform', attempt: 1, status: 'running', at: '2025-01-01T00:00:00.000Z', input: '{"x":1}' },
    });
    expect(logChanges(recorded('StepAttemptSucceeded', { blockId: 'a', attempt: 1, at: '2025-01-01T00:00:01.000Z', durationMs: 1000.4, output: 2 }))).toEqual({
      finish: { runId: 'r1', blockId: 'a', attempt: 1, status: 'succeeded', at: '2025-01-01T00:00:01.000Z', durationMs: 1000, output: '2', error: null },
    });
  });

  it('closes the open rows of a cancelled run as cancelled, at the cancel\'s own time', () => {
    expect(logChanges(recorded('RunCancelled', { reason: 'no', at: '2025-01-01T00:00:05.000Z' }))).toEqual({
      end: { runId: 'r1', status: 'cancelled', at: '2025-01-01T00:00:05.000Z' },
    });
  });

  it('closes the rows a failed run left open as abandoned', () => {
    expect(logChanges(recorded('RunFailed', { at: '2025-01-01T00:00:07.000Z', error: { code: 'x', message: 'y' } }))).toEqual({
      end: { runId: 'r1', status: 'abandoned', at: '2025-01-01T00:00:07.000Z' },
    });
  });

  it('ignores the events the log does not show', () => {
    expect(logChanges(recorded('RunCancelRequested', { at: '2025-01-01T00:00:04.000Z' }))).toEqual({});
    expect(logChanges(recorded('RunCompleted', { at: '2025-01-01T00:00:04.000Z', outputs: {} }))).toEqual({}); // nothing is open
    expect(logChanges(recorded('StepRetryScheduled', { blockId: 'a', nextAttempt: 2, availableAt: '2025-01-01T00:00:04.000Z' }))).toEqual({});
  });
});
