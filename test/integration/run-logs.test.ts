import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { eventsChannel } from '../../src/database/database.module';
import { EventStore } from '../../src/event-store/event-store';
import type { RunningThodare } from '../../src/main';
import { ALL_PROJECTIONS } from '../../src/app/projections';
import type { Projection } from '../../src/event-store/projection';
import { runLogsProjection } from '../../src/projections/run-logs.projection';
import { CancelRunCommand } from '../../src/runs/cancel-run.command';
import { RunLogsQuery, type RunLogEntry } from '../../src/runs/run-logs.query';
import { START } from '../../src/event-store/event';
import { handlesEvent } from '../../src/event-store/projection';
import { block, edge, transformChain, workflowOf } from '../support/run-workflows';
import { createRunTestDatabase, openGate, startRun, startWorkerApp, testMetadata, waitForCalls, waitForStatus } from '../support/run-harness';
import { applyInOneBatch, rebuildWhole, type TestDatabase } from '../support/database';

let db: TestDatabase;
let worker: RunningThodare & { logs: string[] };

beforeAll(async () => {
  db = await createRunTestDatabase('run_logs');
  worker = await startWorkerApp(db);
});
afterAll(async () => {
  await worker?.close();
  await db?.drop();
});

const logsOf = async (runId: string): Promise<RunLogEntry[]> =>
  (await worker.app.get(QueryBus).execute(new RunLogsQuery('org-test', runId, { limit: 100 }))).data;

const cancel = (runId: string) => worker.app.get(CommandBus).execute(new CancelRunCommand('org-test', runId, testMetadata, 'test'));

/** The `at` of the run's last event (its end). */
async function endedAt(runId: string): Promise<string> {
  const { rows } = await db.pool.query(`SELECT data->>'at' AS at FROM events WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1`, [`run-${runId}`]);
  return new Date(rows[0].at).toISOString();
}

const statuses = (logs: RunLogEntry[]) => logs.map((row) => `${row.blockId}:${row.status}`);

describe('run_logs when a run ends with attempts or waits still open', () => {
  const ended: string[] = [];

  it('closes a step cancelled mid-call as cancelled, at the cancel\'s recorded time', async () => {
    const runId = await startRun(worker, workflowOf([block('slow', 'test_gate', { label: 'never-opened' })], [edge('trigger', 'slow')]));
    await waitForCalls(db.pool, 'never-opened');
    await cancel(runId);
    expect(await waitForStatus(db.pool, runId)).toBe('cancelled');
    ended.push(runId);

    const logs = await logsOf(runId);
    expect(statuses(logs)).toEqual(['slow:cancelled']);
    expect(logs[0]?.finishedAt).toBe(await endedAt(runId));
    expect(logs[0]?.durationMs).toEqual(expect.any(Number));
  });

  it.each([
    ['wait_for_event', { eventName: 'never' }, 'waiting'],
    ['wait_duration', { durationMs: 3_600_000 }, 'sleeping'],
    ['human_approval', { prompt: 'ok?' }, 'waiting'],
  ])('closes a %s cancelled while waiting as cancelled', async (type, params, waitingStatus) => {
    const runId = await startRun(worker, workflowOf([block('wait', type, params), block('next', 'transform', { template: 1 })], [edge('trigger', 'wait'), edge('wait', 'next')]));
    await waitForStatus(db.pool, runId, [waitingStatus]);
    await cancel(runId);
    expect(await waitForStatus(db.pool, runId)).toBe('cancelled');
    ended.push(runId);

    const logs = await logsOf(runId);
    expect(statuses(logs)).toEqual(['wait:cancelled']);
    expect(logs[0]?.finishedAt).toBe(await endedAt(runId));
  });

  it('closes a parallel branch still running when the run fails as abandoned', async () => {
    const wf = workflowOf(
      [block('hold', 'test_gate', { label: 'parallel-hold' }), block('gate', 'test_gate', { label: 'fail-now' }), block('bad', 'test_fail', { retryable: false })],
      [edge('trigger', 'hold'), edge('trigger', 'gate'), edge('gate', 'bad')],
    );
    const runId = await startRun(worker, wf);
    await waitForCalls(db.pool, 'parallel-hold');
    await waitForCalls(db.pool, 'fail-now');
    await openGate(db.pool, 'fail-now');
    expect(await waitForStatus(db.pool, runId)).toBe('failed');
    ended.push(runId);

    const logs = await logsOf(runId);
    expect(statuses(logs).sort()).toEqual(['bad:failed', 'gate:succeeded', 'hold:abandoned']);
    expect(logs.find((row) => row.blockId === 'hold')?.finishedAt).toBe(await endedAt(runId));
  });

  it('leaves no running or waiting row behind, and rebuilds (batched or one event at a time) into the live table', async () => {
    expect(ended).toHaveLength(5);
    const open = await db.pool.query(`SELECT run_id, block_id, status FROM run_logs WHERE run_id = ANY($1) AND status IN ('running', 'waiting')`, [ended]);
    expect(open.rows).toEqual([]);

    const snapshot = async () => (await db.pool.query('SELECT * FROM run_logs ORDER BY id')).rows;
    const live = await snapshot();
    expect(live.length).toBeGreaterThanOrEqual(7);
    const store = new EventStore(db.pool, eventsChannel(db.schema), ALL_PROJECTIONS);
    await rebuildWhole(db.pool, store, runLogsProjection);
    expect(await snapshot()).toEqual(live);
    const { applyBatch: _batched, ...oneByOne } = runLogsProjection;
    await rebuildWhole(db.pool, store, oneByOne as Projection);
    expect(await snapshot()).toEqual(live);
  });
});

describe('run_logs in one batch', () => {
  it('writes an attempt that starts and ends in the batch once, already closed, as the two events leave it', async () => {
    const runId = await startRun(worker, transformChain(3));
    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    expect(statuses(await logsOf(runId))).toEqual(['s1:succeeded', 's2:succeeded', 's3:succeeded']);
    const rowsOf = `SELECT * FROM run_logs WHERE run_id = $1 ORDER BY id`;
    const live = (await db.pool.query(rowsOf, [runId])).rows;

    const store = new EventStore(db.pool, eventsChannel(db.schema), ALL_PROJECTIONS);
    const events = (await store.readAll(START, { limit: 100_000 })).events.filter((e) => e.streamId === `run-${runId}` && handlesEvent(runLogsProjection, e));
    await applyInOneBatch(db.pool, runLogsProjection, events, 'run_logs', (tx) => tx.query('DELETE FROM run_logs WHERE run_id = $1', [runId]), async (tx, written) => {
      // An insert and then an update of a row would show here.
      expect(written).toEqual({ inserted: 3, updated: 0 });
      expect((await tx.query(rowsOf, [runId])).rows).toEqual(live);
    });
  });
});
