import { initialRunState, type RunState } from '../domain/run/run.state';
import type { ExecuteStep } from '../domain/run/run.actions';
import type { RunEvent } from '../domain/run/run.events';
import { HOOK_FAILURE_LOG_INTERVAL_MS, RunHooks } from './hook-runner';
import type { StepAttemptHookInfo, WorkerHooks } from './hooks';

const state: RunState = { ...initialRunState(), run: { runId: 'r1', organizationId: 'o1', workflowId: 'w1', workflowVersion: 3, input: {}, variables: {}, startedAt: '2025-01-01T00:00:00.000Z' } };
const step: ExecuteStep = { type: 'ExecuteStep', blockId: 'b1', blockType: 'http_request', attempt: 2, idempotencyKey: 'r1:b1:2' };
const failure = { ok: false as const, error: { code: 'flaky', message: 'no', retryable: true } };

function logSink() {
  const lines: Array<{ data: Record<string, unknown>; message: string }> = [];
  return { lines, warn: (data: object, message: string) => lines.push({ data: data as Record<string, unknown>, message }) };
}

describe('RunHooks', () => {
  it('calls the attempt hooks around the call with one info object and passes the outcome through', async () => {
    const seen: Array<[string, StepAttemptHookInfo, unknown?]> = [];
    const hooks = new RunHooks([{ onStepAttemptStarted: (s) => seen.push(['started', s]), onStepAttemptFinished: (s, r) => seen.push(['finished', s, r]) }], logSink());

    const outcome = await hooks.stepAttempt('r1', step, state, () => Promise.resolve(failure));

    expect(outcome).toBe(failure);
    expect(seen.map(([kind]) => kind)).toEqual(['started', 'finished']);
    expect(seen[0]![1]).toBe(seen[1]![1]);
    expect(seen[0]![1]).toEqual({ run: { runId: 'r1', organizationId: 'o1', workflowId: 'w1', workflowVersion: 3 }, blockId: 'b1', connector: 'http_request', attempt: 2, idempotencyKey: 'r1:b1:2' });
    expect(seen[1]![2]).toEqual({ ok: false, durationMs: expect.any(Number), error: failure.error });
  });

  it('opens a segment once, reports retries and the end, and closes the segment on release', () => {
    const calls: string[] = [];
    const hooks = new RunHooks([{
      onRunSegmentStarted: (r) => calls.push(`start ${r.runId}`),
      onStepRetryScheduled: (r) => calls.push(`retry ${r.blockId} ${r.nextAttempt}`),
      onRunFinished: (_r, end) => calls.push(`finished ${end.status} ${end.error?.code}`),
      onRunSegmentEnded: (_r, s) => calls.push(`end ${s.how}`),
    }], logSink());
    const events: RunEvent[] = [
      { type: 'StepRetryScheduled', data: { blockId: 'b1', nextAttempt: 2, availableAt: '2025-01-01T00:00:01.000Z' } },
      { type: 'RunFailed', data: { error: { code: 'boom', message: 'x' }, at: '2025-01-01T00:00:02.000Z' } },
    ];

    hooks.recorded('r1', state, events);
    hooks.recorded('r1', state, []);
    hooks.released('r1', 'ended');
    hooks.released('r1', 'ended');

    expect(calls).toEqual(['start r1', 'retry b1 2', 'finished failed boom', 'end ended']);
  });

  it('ignores hooks that throw or reject, keeps calling the others, and logs each failing hook once per window', async () => {
    let now = 0;
    const log = logSink();
    const finished: number[] = [];
    const throwing: WorkerHooks = {
      onStepAttemptStarted: () => {
        throw new Error('sync boom');
      },
      onStepAttemptFinished: () => Promise.reject(new Error('async boom')),
    };
    const hooks = new RunHooks([throwing, { onStepAttemptFinished: (s) => finished.push(s.attempt) }], log, () => now);
    const ok = { ok: true as const, output: { value: 1 } };

    for (let i = 0; i < 3; i += 1) expect(await hooks.stepAttempt('r1', step, state, () => Promise.resolve(ok))).toBe(ok);
    await new Promise((resolve) => setImmediate(resolve));
    expect(finished).toEqual([2, 2, 2]);
    expect(log.lines.map((l) => [l.data.hook, (l.data.err as Error).message])).toEqual([
      ['onStepAttemptStarted', 'sync boom'],
      ['onStepAttemptFinished', 'async boom'],
    ]);

    now += HOOK_FAILURE_LOG_INTERVAL_MS;
    await hooks.stepAttempt('r1', step, state, () => Promise.resolve(ok));
    await new Promise((resolve) => setImmediate(resolve));
    expect(log.lines.slice(2).map((l) => [l.data.hook, l.data.suppressedSinceLastLog])).toEqual([
      ['onStepAttemptStarted', 2],
      ['onStepAttemptFinished', 2],
    ]);
  });

  it('calls the step straight through when there are no hooks', async () => {
    const ok = { ok: true as const, output: null };
    expect(await new RunHooks([], logSink()).stepAttempt('r1', step, state, () => Promise.resolve(ok))).toBe(ok);
  });
});
