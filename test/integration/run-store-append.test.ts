import type { RunningThodare } from '../../src/main';
import type { RunEvent } from '../../src/domain/run/run.events';
import type { RunState } from '../../src/domain/run/run.state';
import { waitingFor } from '../../src/domain/run/run.view';
import { RunChanges } from '../../src/runs/run-changes';
import { RunStore } from '../../src/runs/run-store';
import type { TestDatabase } from '../support/database';
import { block, edge, workflowOf } from '../support/run-workflows';
import { createRunTestDatabase, startRun, startWorkerApp, testMetadata } from '../support/run-harness';

// `RunStore.append` takes what it writes of a run's state before it returns: a worker playing a
// chain of pure steps ahead evolves the same state while the batch before is being committed
// (`ActiveRun.record`), and the row, the projection and the change told to listeners must be the
// batch's, not whatever the state has become by the time the commit answers.

let db: TestDatabase;
let api: RunningThodare & { logs: string[] };
const ORG = 'org-test';

beforeAll(async () => {
  db = await createRunTestDatabase('run_store_append');
  // No worker: the run stays where this test's own appends leave it.
  api = await startWorkerApp(db, {}, { api: true, worker: false });
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

const at = () => new Date().toISOString();

describe('RunStore.append', () => {
  it('writes and tells the batch it was given, though the state moves on before the commit answers', async () => {
    const runId = await startRun(api, workflowOf([block('wait', 'wait_for_event', { eventName: 'go' }), block('after', 'transform', { template: 'done' })], [edge('trigger', 'wait'), edge('wait', 'after')]));
    const store = api.app.get(RunStore);
    const told: number[] = [];
    api.app.get(RunChanges).onRun(runId, (_id, change) => {
      if (change) told.push(change.version);
    });
    const state = (await store.load(runId, ORG))!;
    expect(state.version).toBe(1);

    const batches: { events: RunEvent[]; oneStatement: boolean }[] = [
      // Through the event store: the waits' read model is inline, and the state is handed to `run_state`.
      { events: [{ type: 'RunWaitingForEvent', data: { blockId: 'wait', eventName: 'go', at: at() } }], oneStatement: false },
      { events: [{ type: 'WaitCompleted', data: { blockId: 'wait', reason: 'signal', output: { data: 1, timedOut: false }, at: at() } }], oneStatement: false },
      // One statement, its row built from the state.
      { events: [{ type: 'StepAttemptStarted', data: { blockId: 'after', blockType: 'transform', attempt: 1, input: {}, at: at() } }], oneStatement: true },
    ];
    const next: RunEvent[] = [
      ...batches.slice(1).map((b) => b.events[0]!),
      { type: 'StepAttemptSucceeded', data: { blockId: 'after', attempt: 1, output: 'done', at: at(), durationMs: 1 } },
    ];
    const written: { version: number; status: string; waitingFor: unknown }[] = [];
    let before = state.version;
    store.decider.evolve(state, batches[0]!.events[0]!);
    for (const [i, batch] of batches.entries()) {
      expect(store.appendsInOneStatement(batch.events)).toBe(batch.oneStatement);
      written.push(columnsOf(state));
      const appending = store.append(state, before, batch.events, { metadata: testMetadata });
      // The next batch is played into the same state while this one is on its way.
      before = state.version;
      store.decider.evolve(state, next[i]!);
      await appending;
      const { rows } = await db.pool.query<{ stream_version: number; status: string; waiting_for: unknown }>('SELECT stream_version, status, waiting_for FROM run_state WHERE run_id = $1', [runId]);
      expect({ version: rows[0]!.stream_version, status: rows[0]!.status, waitingFor: rows[0]!.waiting_for }).toEqual(written[i]);
    }
    expect(written.map((w) => w.status)).toEqual(['waiting', 'running', 'running']);
    expect(told).toEqual([2, 3, 4]);
  });
});

function columnsOf(state: RunState): { version: number; status: string; waitingFor: unknown } {
  return { version: state.version, status: state.status, waitingFor: waitingFor(state) ?? null };
}
