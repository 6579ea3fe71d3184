import type { SerializedWorkflow, WorkflowConcurrency } from '../../src/domain/workflow/workflow';
import { mostAdmittedAtOnce } from '../support/concurrency-lines';
import type { TestDatabase } from '../support/database';
import { killWorker, spawnWorker, type WorkerProcess } from '../support/run-processes';
import { appendRunStart } from '../support/run-start';
import { block, edge, workflowOf } from '../support/run-workflows';
import { callsOf, createRunTestDatabase, eventTypes, openGate, testCatalog, waitForCalls, waitForStatus } from '../support/run-harness';

// A concurrency limit across worker processes that race for the same line, and across a worker's
// death: real processes (the worker module + test connectors), killed with SIGKILL.
const LEASE = { THODARE_LEASE_MS: '1500' };

let db: TestDatabase;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  db = await createRunTestDatabase('concurrency');
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map(killWorker));
});
afterAll(async () => {
  await db?.drop();
});

async function spawn(): Promise<WorkerProcess> {
  const worker = spawnWorker(db, LEASE);
  workers.push(worker);
  await worker.ready;
  return worker;
}

const limited = (workflow: SerializedWorkflow, concurrency: WorkflowConcurrency): SerializedWorkflow => ({ ...workflow, metadata: { ...workflow.metadata, concurrency } });

describe('a concurrency limit across processes', () => {
  it('holds while three workers race for the same line', async () => {
    await Promise.all([spawn(), spawn(), spawn()]);
    const workflow = limited(workflowOf([block('nap', 'test_sleep', { ms: 120 })], [edge('trigger', 'nap')]), { limit: 2 });
    const runIds = await Promise.all(Array.from({ length: 12 }, () => appendRunStart(db, testCatalog(), workflow)));
    for (const runId of runIds) expect(await waitForStatus(db.pool, runId)).toBe('completed');
    expect(await mostAdmittedAtOnce(db.pool, runIds)).toBe(2);
    for (const runId of runIds) expect((await eventTypes(db.pool, runId)).filter((type) => type === 'RunAdmitted')).toHaveLength(1);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM run_concurrency')).rows[0].n).toBe(0);
  });

  it("keeps a dead worker's run in its place: the worker that takes it over does not admit it again, and the queue waits for its end", async () => {
    await spawn();
    const gated = (label: string) => limited(workflowOf([block('gate', 'test_gate', { label })], [edge('trigger', 'gate')]), { limit: 1, keyPath: 'line' });
    const first = await appendRunStart(db, testCatalog(), gated('crash-first'), { line: 'crash' });
    await waitForCalls(db.pool, 'crash-first');
    const second = await appendRunStart(db, testCatalog(), gated('crash-second'), { line: 'crash' });
    await waitForRows(2);
    await killWorker(workers[0]!);

    await spawn();
    await waitForCalls(db.pool, 'crash-first', 2); // the new worker re-runs the attempt it owes
    expect(await waitForStatus(db.pool, second, ['queued'])).toBe('queued');
    expect((await callsOf(db.pool, second)).length).toBe(0);
    await openGate(db.pool, 'crash-first');
    expect(await waitForStatus(db.pool, first)).toBe('completed');
    await waitForCalls(db.pool, 'crash-second');
    await openGate(db.pool, 'crash-second');
    expect(await waitForStatus(db.pool, second)).toBe('completed');
    expect(await eventTypes(db.pool, first)).toEqual(['RunStarted', 'RunAdmitted', 'StepAttemptStarted', 'StepAttemptSucceeded', 'RunCompleted']);
    expect(await mostAdmittedAtOnce(db.pool, [first, second])).toBe(1);
  });
});

async function waitForRows(count: number): Promise<void> {
  for (let tries = 0; tries < 400; tries++) {
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM run_concurrency');
    if (rows[0].n >= count) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`run_concurrency never held ${count} rows`);
}
