import type { PoolClient } from 'pg';
import type { RunningThodare } from '../../src/main';
import type { RunEvent } from '../../src/domain/run/run.events';
import { cloneRunState } from '../../src/domain/run/run.state';
import { StreamVersionConflict } from '../../src/event-store/errors';
import { appendRunBatch, appendRunBatches, runAppendItem, type Item } from '../../src/run-queue/run-append';
import { RunStore } from '../../src/runs/run-store';
import type { TestDatabase } from '../support/database';
import { waitUntilBlocked } from '../support/locks';
import { block, edge, workflowOf } from '../support/run-workflows';
import { createRunTestDatabase, startRun, startWorkerApp, testMetadata } from '../support/run-harness';

// Every writer of a run takes its `run_state` row before it inserts the run's events. The worker's
// fenced append always did (its lease fence is a `FOR UPDATE`), and so do the writers of many runs
// (`lockRunRows`); an unfenced one-statement append (a signal, a cancel: API commands), and any
// batch written through the event store (waits, approvals, cancels, failures), inserted first and
// took the row after. Meeting a writer that held the row and then inserted the same
// version, each waited for the other: Postgres broke the deadlock after a second by failing one,
// and a signal or a cancel answered 500 (found by firing signals, cancels, reruns, publications
// and patches at 60 waiting runs at once: 3 of 720 requests).

let db: TestDatabase;
let api: RunningThodare & { logs: string[] };
const ORG = 'org-test';
const clients: PoolClient[] = [];

beforeAll(async () => {
  db = await createRunTestDatabase('run_append_lock_order');
  // No worker: the run stays where this test's own appends leave it.
  api = await startWorkerApp(db, {}, { api: true, worker: false });
});

afterAll(async () => {
  for (const client of clients) client.release();
  await api?.close();
  await db?.drop();
});

/** A connection of its own, and its backend's pid (to see it wait for a lock). */
async function session(): Promise<{ client: PoolClient; pid: number }> {
  const client = await db.pool.connect();
  clients.push(client);
  return { client, pid: (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid };
}

const at = () => new Date().toISOString();

/** A started run leased to `worker-w` (epoch 1), at version 1, and batches of events decided on it. */
async function leasedRun() {
  const runId = await startRun(api, workflowOf([block('wait', 'wait_for_event', { eventName: 'go' })], [edge('trigger', 'wait')]));
  await db.pool.query(`UPDATE run_state SET lease_owner = 'worker-w', lease_epoch = 1, lease_until = now() + interval '1 minute' WHERE run_id = $1`, [runId]);
  const store = api.app.get(RunStore);
  const loaded = (await store.load(runId, ORG))!;
  expect(loaded.version).toBe(1);
  const batch = (events: RunEvent[]) => {
    const state = cloneRunState(loaded);
    for (const event of events) store.decider.evolve(state, event);
    expect(store.appendsInOneStatement(events)).toBe(true);
    return { state, events };
  };
  const step = batch([{ type: 'StepAttemptStarted', data: { blockId: 'wait', blockType: 'wait_for_event', attempt: 1, input: { eventName: 'go' }, at: at() } }]);
  const signal = batch([{ type: 'SignalReceived', data: { signalId: `s-${runId}`, name: 'go', payload: 1, scope: 'run', receivedAt: at() } }]);
  return {
    runId,
    workerItem: runAppendItem(step.state, 1, step.events, { metadata: testMetadata, fence: { owner: 'worker-w', epoch: 1 } }),
    signalItem: runAppendItem(signal.state, 1, signal.events, { metadata: testMetadata, notify: true }),
  };
}

/**
 * A third session holds `runId`'s row; the worker's fenced append of it queues for the row first,
 * then `unfenced` (the signals' write); then the holder lets go. How each ended.
 */
async function raceForTheRow(runId: string, worker: Item, unfenced: (client: PoolClient) => Promise<void>) {
  const { client: holder } = await session();
  await holder.query('BEGIN');
  await holder.query('SELECT 1 FROM run_state WHERE run_id = $1 FOR UPDATE', [runId]);
  const [workerSession, signalSession] = [await session(), await session()];
  const workerAppend = appendRunBatch(workerSession.client, worker, undefined);
  await waitUntilBlocked(db.pool, workerSession.pid);
  const signalAppend = unfenced(signalSession.client);
  await waitUntilBlocked(db.pool, signalSession.pid);
  await holder.query('ROLLBACK');
  return Promise.allSettled([workerAppend, signalAppend]);
}

const typesOf = async (runId: string) =>
  (await db.pool.query<{ type: string }>('SELECT type FROM events WHERE stream_id = $1 ORDER BY stream_version', [`run-${runId}`])).rows.map((row) => row.type);

it("an unfenced append waits for the run's row before it inserts: against a fenced writer of the same version it loses with a conflict, never a deadlock", async () => {
  const run = await leasedRun();
  const [worker, signal] = await raceForTheRow(run.runId, run.workerItem, (client) => appendRunBatch(client, run.signalItem, undefined));
  // Before: the signal had inserted version 2 and waited for the row, the worker held the row and
  // waited for that insert; Postgres failed one of them with 40P01 deadlock_detected.
  expect(worker.status).toBe('fulfilled');
  expect(signal.status === 'rejected' && signal.reason).toBeInstanceOf(StreamVersionConflict);
  expect(await typesOf(run.runId)).toEqual(['RunStarted', 'StepAttemptStarted']);
});

it('a group of unfenced batches (`append_run_batches`) locks its runs before it inserts too', async () => {
  const [first, second] = [await leasedRun(), await leasedRun()];
  const items = [first.signalItem, second.signalItem].sort((a, b) => (a.run < b.run ? -1 : 1));
  const [worker, group] = await raceForTheRow(first.runId, first.workerItem, (client) => appendRunBatches(client, items, undefined));
  // Before (migrations/0032): the group inserted both signals and waited for the first run's row.
  expect(worker.status).toBe('fulfilled');
  expect(group.status === 'rejected' && group.reason).toBeInstanceOf(StreamVersionConflict);
  expect(await typesOf(first.runId)).toEqual(['RunStarted', 'StepAttemptStarted']);
});

it('a batch written through the event store (a wait: another inline read model) locks the run before its insert too', async () => {
  const run = await leasedRun();
  const store = api.app.get(RunStore);
  const state = (await store.load(run.runId, ORG))!;
  const waiting: RunEvent[] = [{ type: 'RunWaitingForEvent', data: { blockId: 'wait', eventName: 'go', at: at() } }];
  for (const event of waiting) store.decider.evolve(state, event);
  expect(store.appendsInOneStatement(waiting)).toBe(false);
  const [worker, wait] = await raceForTheRow(run.runId, run.workerItem, async (client) => {
    await client.query('BEGIN');
    try {
      await store.append(state, 1, waiting, { metadata: testMetadata, client });
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  });
  // Before: the event store inserted version 2 and its `run_state` projection then waited for
  // the row the worker held while the worker waited for that insert.
  expect(worker.status).toBe('fulfilled');
  expect(wait.status === 'rejected' && wait.reason).toBeInstanceOf(StreamVersionConflict);
  expect(await typesOf(run.runId)).toEqual(['RunStarted', 'StepAttemptStarted']);
});
