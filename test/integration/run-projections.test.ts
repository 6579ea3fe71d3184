import { CommandBus } from '@nestjs/cqrs';
import { eventsChannel } from '../../src/database/database.module';
import { EventStore } from '../../src/event-store/event-store';
import { projectionLag } from '../../src/metrics/scrape-queries';
import type { RunningThodare } from '../../src/main';
import { ALL_PROJECTIONS, findProjection } from '../../src/app/projections';
import { SignalRunCommand } from '../../src/runs/signal-run.command';
import { block, edge, transformChain, workflowOf } from '../support/run-workflows';
import { createRunTestDatabase, startRun, startWorkerApp, testMetadata, waitForStatus } from '../support/run-harness';
import { rebuildWhole, type TestDatabase } from '../support/database';

let db: TestDatabase;
let worker: RunningThodare & { logs: string[] };

beforeAll(async () => {
  db = await createRunTestDatabase('run_projections');
  worker = await startWorkerApp(db);
});
afterAll(async () => {
  await worker?.close();
  await db?.drop();
});

const SNAPSHOTS: Record<string, string> = {
  // Leases are operational, not facts: a rebuild leaves them empty.
  run_state: `SELECT run_id, organization_id, workflow_id, workflow_version, seq, status, stream_version, error, waiting_for,
                created_at, started_at, ended_at, updated_at, available_at FROM run_state ORDER BY run_id`,
  run_logs: 'SELECT * FROM run_logs ORDER BY id',
  run_waits: `SELECT (SELECT json_agg(w ORDER BY run_id, block_id) FROM run_event_waits w) AS waits,
                     (SELECT json_agg(a ORDER BY token_hash) FROM run_approvals a) AS approvals`,
};

async function caughtUp(): Promise<void> {
  for (;;) {
    // Counted in commit order, as the projection reads: the last event there may not hold the highest position.
    if ((await projectionLag(db.pool, ['run_logs'])).get('run_logs') === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('run projections', () => {
  it('rebuild from position zero into exactly the live tables', async () => {
    const bus = worker.app.get(CommandBus);
    const completed = await startRun(worker, transformChain(4), { n: 1 });
    const failed = await startRun(worker, workflowOf([block('bad', 'test_fail', { retryable: false })], [edge('trigger', 'bad')]));
    const waiting = await startRun(worker, workflowOf([block('w', 'wait_for_event', { eventName: 'e', timeoutMs: 3_600_000 }), block('x', 'transform', { template: 1 })], [edge('trigger', 'w'), edge('w', 'x')]));
    const signalled = await startRun(worker, workflowOf([block('w', 'wait_for_event', { eventName: 'go' }), block('x', 'transform', { template: '{{w.data}}' })], [edge('trigger', 'w'), edge('w', 'x')]));
    const sleeping = await startRun(worker, workflowOf([block('nap', 'wait_duration', { durationMs: 3_600_000 })], [edge('trigger', 'nap')]));
    const approval = await startRun(worker, workflowOf([block('ask', 'human_approval', { prompt: 'ok?' })], [edge('trigger', 'ask')]));
    await waitForStatus(db.pool, completed);
    await waitForStatus(db.pool, failed);
    await waitForStatus(db.pool, waiting, ['waiting']);
    await waitForStatus(db.pool, signalled, ['waiting']);
    await bus.execute(new SignalRunCommand('org-test', signalled, { name: 'go', payload: 7 }, testMetadata));
    await waitForStatus(db.pool, signalled);
    await waitForStatus(db.pool, sleeping, ['sleeping']);
    await waitForStatus(db.pool, approval, ['waiting']);
    await caughtUp();
    await worker.close();

    const store = new EventStore(db.pool, eventsChannel(db.schema), ALL_PROJECTIONS);
    for (const [name, sql] of Object.entries(SNAPSHOTS)) {
      const live = (await db.pool.query(sql)).rows;
      await rebuildWhole(db.pool, store, findProjection(name)!);
      expect({ name, rows: (await db.pool.query(sql)).rows }).toEqual({ name, rows: live });
    }
    const statuses = await db.pool.query('SELECT status, count(*)::int AS n FROM run_state GROUP BY 1 ORDER BY 1');
    expect(statuses.rows).toEqual([
      { status: 'completed', n: 2 },
      { status: 'failed', n: 1 },
      { status: 'sleeping', n: 1 },
      { status: 'waiting', n: 2 },
    ]);
    worker = await startWorkerApp(db); // afterAll closes it
  });
});
