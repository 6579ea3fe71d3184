import { CommandBus } from '@nestjs/cqrs';
import { Pool } from 'pg';
import type { RunningThodare } from '../../src/main';
import { CancelRunCommand } from '../../src/runs/cancel-run.command';
import type { TestDatabase } from '../support/database';
import { block, edge, fanOut, transformChain, workflowOf } from '../support/run-workflows';
import { callsOf, createRunTestDatabase, eventTypes, startRun, startWorkerApp, testMetadata, viewRun, waitForCalls, waitForStatus } from '../support/run-harness';

let db: TestDatabase;
let worker: RunningThodare & { logs: string[] };

beforeAll(async () => {
  db = await createRunTestDatabase('worker');
  worker = await startWorkerApp(db);
});
afterAll(async () => {
  await worker?.close();
  await db?.drop();
});

/** How many of the run's events each of its commits recorded, in order. */
async function commitSizes(runId: string): Promise<number[]> {
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM events WHERE stream_id = $1 GROUP BY transaction_id ORDER BY min(global_position)`,
    [`run-${runId}`],
  );
  return rows.map((row) => row.n);
}

describe('the run worker', () => {
  it('runs a chain of transforms to completion with every output', async () => {
    const runId = await startRun(worker, transformChain(3), { n: 7 });

    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    const view = await viewRun(worker, runId);
    expect(view.outputs).toEqual({
      trigger: { n: 7 },
      s1: { value: { step: 1, from: 7 } },
      s2: { value: { step: 2, from: 1 } },
      s3: { value: { step: 3, from: 2 } },
    });
    // Transforms are pure: a run started in a process with a worker is handed to it at its start,
    // which runs them at once and records the whole run in the start's own commit (it took one
    // commit per step: [2, 2, 2, 2]).
    expect(await commitSizes(runId)).toEqual([8]);
    expect(await eventTypes(db.pool, runId)).toEqual([
      'RunStarted',
      'StepAttemptStarted',
      'StepAttemptSucceeded',
      'StepAttemptStarted',
      'StepAttemptSucceeded',
      'StepAttemptStarted',
      'StepAttemptSucceeded',
      'RunCompleted',
    ]);
  });

  it("records a step that is not pure as started before it runs, and runs the pure ones around it in their neighbours' commits", async () => {
    const wf = workflowOf(
      [block('before', 'transform', { template: 'a' }), block('call', 'test_count', { label: 'impure' }), block('after', 'transform', { template: 'b' })],
      [edge('trigger', 'before'), edge('before', 'call'), edge('call', 'after')],
    );
    const runId = await startRun(worker, wf);

    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    // [RunStarted, before started, before succeeded, call started], then call's result, after, the end.
    expect(await commitSizes(runId)).toEqual([4, 4]);
    const { rows } = await db.pool.query<{ started: Date; called: Date }>(
      `SELECT e.recorded_at AS started, c.at AS called FROM events e JOIN test_calls c ON c.run_id = $2 AND c.block_id = 'call'
       WHERE e.stream_id = $1 AND e.type = 'StepAttemptStarted' AND e.data->>'blockId' = 'call'`,
      [`run-${runId}`, runId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.called.getTime()).toBeGreaterThanOrEqual(rows[0]!.started.getTime());
  });

  it('retries a failing step and then succeeds, recording every attempt', async () => {
    const wf = workflowOf([block('flaky', 'test_flaky', { failures: 2, label: 'retry-ok' })], [edge('trigger', 'flaky')]);
    const runId = await startRun(worker, wf);

    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    expect((await viewRun(worker, runId)).outputs['flaky']).toEqual({ attempt: 3 });
    expect((await callsOf(db.pool, runId)).map((c) => c.idempotency_key)).toEqual([1, 2, 3].map((a) => `${runId}:flaky:${a}`));
  });
});

describe('failures, branches and cancellation', () => {
  it('fails the run after the last attempt, with the failing block in the error', async () => {
    const wf = workflowOf([block('bad', 'test_fail', { code: 'upstream_down' }), block('never', 'test_count', { label: 'never-1' })], [edge('trigger', 'bad'), edge('bad', 'never')]);
    const runId = await startRun(worker, wf);

    expect(await waitForStatus(db.pool, runId)).toBe('failed');
    const view = await viewRun(worker, runId);
    expect(view.error).toEqual({ code: 'upstream_down', message: 'this step always fails', blockId: 'bad' });
    expect((await callsOf(db.pool, runId)).map((c) => `${c.block_id}:${c.attempt}`)).toEqual(['bad:1', 'bad:2']);
    expect(await eventTypes(db.pool, runId)).toEqual(expect.arrayContaining(['StepRetryScheduled', 'RunFailed']));
  });

  it('takes the error branch of a block whose last attempt failed, and skips its success branch', async () => {
    const wf = workflowOf(
      [
        block('bad', 'test_fail', { code: 'nope', retryable: false }),
        block('ok', 'test_count', { label: 'ok-branch' }),
        block('recover', 'transform', { template: { caught: '{{bad}}' } }),
      ],
      [edge('trigger', 'bad'), edge('bad', 'ok'), edge('bad', 'recover', 'error')],
    );
    const runId = await startRun(worker, wf);

    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    const view = await viewRun(worker, runId);
    expect(view.outputs['recover']).toEqual({ value: { caught: { code: 'nope', message: 'this step always fails', retryable: false } } });
    expect(view.outputs['ok']).toBeUndefined();
    expect((await callsOf(db.pool, runId)).map((c) => c.block_id)).toEqual(['bad']); // not retried: non-retryable
  });

  it('runs a fork/join: the branch not taken is skipped, the join still runs', async () => {
    const wf = workflowOf(
      [
        block('check', 'condition', { left: '{{trigger.amount}}', operator: 'gt', right: 100 }),
        block('big', 'test_count', { label: 'big', value: 'big' }),
        block('small', 'test_count', { label: 'small', value: 'small' }),
        block('side', 'test_count', { label: 'side', value: 'side' }),
        block('join', 'transform', { template: { big: '{{big.value}}', small: '{{small.value}}', side: '{{side.value}}' } }),
      ],
      [
        edge('trigger', 'check'),
        edge('trigger', 'side'),
        edge('check', 'big', 'true'),
        edge('check', 'small', 'false'),
        edge('big', 'join'),
        edge('small', 'join'),
        edge('side', 'join'),
      ],
    );
    const runId = await startRun(worker, wf, { amount: 500 });

    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    const view = await viewRun(worker, runId);
    expect(view.outputs['join']).toEqual({ value: { big: 'big', side: 'side' } }); // `small` never ran
    expect((await callsOf(db.pool, runId)).map((c) => c.block_id).sort()).toEqual(['big', 'side']);
    const skipped = await db.pool.query(`SELECT data FROM events WHERE stream_id = $1 AND type = 'StepSkipped'`, [`run-${runId}`]);
    expect(skipped.rows.map((r) => r.data)).toEqual([expect.objectContaining({ blockId: 'small', reason: 'branch_not_taken' })]);
  });

  it('cancels a run during a step: the call is aborted and nothing downstream runs', async () => {
    const wf = workflowOf([block('slow', 'test_sleep', { ms: 30_000, label: 'cancel-step' }), block('next', 'test_count', { label: 'after-cancel' })], [edge('trigger', 'slow'), edge('slow', 'next')]);
    const runId = await startRun(worker, wf);
    await waitForCalls(db.pool, 'cancel-step');

    const result = await worker.app.get(CommandBus).execute(new CancelRunCommand('org-test', runId, testMetadata, 'changed my mind'));
    expect(result.cancelRequested).toBe(true);
    expect(await waitForStatus(db.pool, runId)).toBe('cancelled');
    await waitForCalls(db.pool, 'cancel-step', 2); // the aborted call recorded that it saw the abort
    expect((await callsOf(db.pool, runId)).map((c) => c.connector)).toEqual(['test_sleep', 'test_sleep_aborted']);
    expect(await eventTypes(db.pool, runId)).toEqual(['RunStarted', 'StepAttemptStarted', 'RunCancelRequested', 'RunCancelled']);
    await expect(worker.app.get(CommandBus).execute(new CancelRunCommand('org-test', runId, testMetadata))).rejects.toMatchObject({ code: 'run_finished' });
  });

  it('cancels a run during a wait', async () => {
    const wf = workflowOf([block('wait', 'wait_for_event', { eventName: 'never' }), block('next', 'test_count', { label: 'after-wait-cancel' })], [edge('trigger', 'wait'), edge('wait', 'next')]);
    const runId = await startRun(worker, wf);
    await waitForStatus(db.pool, runId, ['waiting']);

    await worker.app.get(CommandBus).execute(new CancelRunCommand('org-test', runId, testMetadata));
    expect(await waitForStatus(db.pool, runId)).toBe('cancelled');
    expect(await callsOf(db.pool, runId)).toEqual([]);
    const waits = await db.pool.query('SELECT 1 FROM run_event_waits WHERE run_id = $1', [runId]);
    expect(waits.rowCount).toBe(0);
  });
});

describe('scale', () => {
  it('completes a 100-block chain', async () => {
    const runId = await startRun(worker, transformChain(100), { n: 0 });
    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    const view = await viewRun(worker, runId);
    expect(view.outputs['s100']).toEqual({ value: { step: 100, from: 99 } });
    expect(view.version).toBe(1 + 100 * 2 + 1);
  });

  /** How many times each block's attempt started and succeeded in the run's stream. */
  async function attemptCounts(runId: string): Promise<Map<string, string>> {
    const { rows } = await db.pool.query<{ block: string; counts: string }>(
      `SELECT data->>'blockId' AS block, count(*) FILTER (WHERE type = 'StepAttemptStarted') || '/' || count(*) FILTER (WHERE type = 'StepAttemptSucceeded') AS counts
       FROM events WHERE stream_id = $1 AND data ? 'blockId' GROUP BY 1`,
      [`run-${runId}`],
    );
    return new Map(rows.map((row) => [row.block, row.counts]));
  }

  it('writes a long chain of transforms in several commits, each step started and succeeded once, in order', async () => {
    const runId = await startRun(worker, transformChain(300), { n: 0 });
    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    expect((await viewRun(worker, runId)).outputs['s300']).toEqual({ value: { step: 300, from: 299 } });
    const sizes = await commitSizes(runId);
    expect(sizes.length).toBeGreaterThan(2); // written while the chain played on, not in one commit
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1 + 300 * 2 + 1);
    const counts = await attemptCounts(runId);
    expect(counts.size).toBe(300);
    expect([...counts.values()].every((c) => c === '1/1')).toBe(true);
  });

  it('finishes a long chain whose write failed while the next batch played ahead: the run is folded again and no step is recorded twice', async () => {
    const pool = worker.app.get(Pool);
    const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    let failed = 0;
    // The first worker write of a batch after the start's (expected version > 0) fails once.
    const spy = jest.spyOn(pool, 'query').mockImplementation(((...args: unknown[]) => {
      const config = args[0] as { name?: string; values?: unknown[] } | undefined;
      if (failed === 0 && config?.name === 'thodare-run-append-one' && Number(config.values?.[1]) > 0) {
        failed += 1;
        return Promise.reject(new Error('injected: the write of a batch failed'));
      }
      return query(...args);
    }) as typeof pool.query);
    try {
      const runId = await startRun(worker, transformChain(300), { n: 0 });
      expect(await waitForStatus(db.pool, runId)).toBe('completed');
      expect(failed).toBe(1);
      expect((await viewRun(worker, runId)).outputs['s300']).toEqual({ value: { step: 300, from: 299 } });
      const counts = await attemptCounts(runId);
      expect(counts.size).toBe(300);
      expect([...counts.values()].every((c) => c === '1/1')).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  it('runs a 100-way fan-out concurrently and joins it', async () => {
    const runId = await startRun(worker, fanOut(100, 'test_sleep', (i) => ({ ms: 200, label: `fan-${i}` })));
    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    const view = await viewRun(worker, runId);
    expect(view.outputs['join']).toEqual({ value: { branches: 100 } });
    const { rows } = await db.pool.query<{ ms: number }>(
      `SELECT extract(epoch FROM max(recorded_at) - min(recorded_at)) * 1000 AS ms FROM events WHERE stream_id = $1`,
      [`run-${runId}`],
    );
    // 100 branches of 200 ms each: one after another would take 20 s.
    expect(Number(rows[0]!.ms)).toBeLessThan(10_000);
    expect((await callsOf(db.pool, runId)).filter((c) => c.connector === 'test_sleep')).toHaveLength(100);
  });
});
