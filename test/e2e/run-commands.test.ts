import { Pool } from 'pg';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';
import { foldedRunDetails } from '../support/run-harness';
import { recordQueries } from '../support/statements';

let app: TestApp;
/** A second API instance on the same database, with states of its own. */
let beside: TestApp;
let owner: SignedUp;
let other: SignedUp;

beforeAll(async () => {
  app = await startTestApp('run_commands');
  beside = await startTestApp('run_commands_beside', {}, { api: true, worker: false }, app.db);
  [owner, other] = [await signUp(app), await signUp(app)];
});
afterAll(async () => {
  await beside?.close();
  await app?.close();
});

/** start → wait for `go` → a step that quotes its payload. */
async function startWaiting(): Promise<string> {
  const workflowId = await createWorkflow(app, owner.headers, [
    add('start', 'trigger_manual'),
    add('hold', 'wait_for_event', { eventName: 'go' }),
    add('out', 'transform', { template: 'got {{hold.data.n}}' }),
    connect('start', 'hold'),
    connect('hold', 'out'),
  ]);
  const started = await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: owner.headers, body: {} });
  expect(started.status).toBe(202);
  const runId = started.body.runId as string;
  const deadline = Date.now() + 20_000;
  while ((await app.request('GET', `/api/runs/${runId}`, { headers: owner.headers })).body.waitingFor?.blockId !== 'hold') {
    if (Date.now() > deadline) throw new Error(`run ${runId} never waited`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return runId;
}

const signal = (on: TestApp, runId: string, body: Record<string, unknown>, headers = owner.headers) => on.request('POST', `/api/runs/${runId}/signals`, { headers, body });

/** The run as a fold of its whole stream shows it, as the API would send it. */
const freshFold = (runId: string) => foldedRunDetails(app.running, runId, owner.organizationId);

async function storedSignals(runId: string): Promise<{ name: string; signalId: string }[]> {
  const { rows } = await app.db.pool.query<{ data: { name: string; signalId: string } }>(
    "SELECT data FROM events WHERE stream_id = $1 AND type = 'SignalReceived' ORDER BY stream_version",
    [`run-${runId}`],
  );
  return rows.map((row) => ({ name: row.data.name, signalId: row.data.signalId }));
}

/**
 * The reads of the run's stream that `on` sent while a piece of work ran, by the version each
 * started at: those of the clients its pool lent out meanwhile. Not every client of this process:
 * the worker that holds the run (another instance's) reads it too when a signal wakes it, for the
 * run's organization like a command, and on a slow machine the first signal's woke it during the
 * second (this test failed so once in three full runs).
 */
async function streamReadsOf(on: TestApp, runId: string, work: () => Promise<unknown>): Promise<unknown[]> {
  const pool = on.running.app.get(Pool);
  const lent = new Set<unknown>();
  const lend = (client: unknown) => lent.add(client);
  pool.on('acquire', lend);
  const stop = recordQueries();
  const sent = await work().then(stop, (error: unknown) => {
    stop();
    throw error;
  }).finally(() => pool.off('acquire', lend));
  return sent
    .filter((q) => lent.has(q.client) && q.values[0] === `run-${runId}` && /FROM events\s+WHERE stream_id = \$1/.test(q.text))
    .map((q) => q.values[1]);
}

describe('commands on a run', () => {
  it('decides a signal on the state this instance keeps, reading only the events since, and the run goes on as a whole fold says', async () => {
    const runId = await startWaiting();
    // An instance without a worker reads the waiting run and keeps its state: its signal reads
    // from after it, never from the first event.
    expect((await beside.request('GET', `/api/runs/${runId}`, { headers: owner.headers })).status).toBe(200);
    const { version } = await freshFold(runId);
    const reads = await streamReadsOf(beside, runId, async () => expect((await signal(beside, runId, { name: 'unrelated', payload: { n: 0 } })).status).toBe(202));
    expect(reads).toEqual([version + 1]);

    const second = await streamReadsOf(beside, runId, async () => expect((await signal(beside, runId, { name: 'go', payload: { n: 5 } })).status).toBe(202));
    // The first signal's state was kept with its event: the second starts after it.
    expect(second).toEqual([version + 2]);
    const ended = await waitForRun(app, owner.headers, runId);
    expect(ended.outputs.out).toEqual({ value: 'got 5' });
    for (const on of [beside, app]) expect((await on.request('GET', `/api/runs/${runId}`, { headers: owner.headers })).body).toEqual((await freshFold(runId)).view);
  });

  it('sees what another instance appended: an idempotency key used there is a duplicate here', async () => {
    const runId = await startWaiting();
    // Both instances keep the run's state.
    for (const on of [app, beside]) expect((await on.request('GET', `/api/runs/${runId}`, { headers: owner.headers })).status).toBe(200);
    const there = await signal(beside, runId, { name: 'note', payload: { n: 1 }, idempotencyKey: 'once' });
    const here = await signal(app, runId, { name: 'note', payload: { n: 1 }, idempotencyKey: 'once' });
    expect(there.status).toBe(202);
    expect(here.status).toBe(202);
    expect(there.body.duplicate).toBe(false);
    expect(here.body).toEqual({ ...there.body, duplicate: true });
    expect(await storedSignals(runId)).toEqual([{ name: 'note', signalId: 'key:once' }]);
  });

  it('records every one of many signals sent at once through two instances, once each', async () => {
    const runId = await startWaiting();
    for (const on of [app, beside]) await on.request('GET', `/api/runs/${runId}`, { headers: owner.headers });
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => signal(i % 2 === 0 ? app : beside, runId, { name: `n${i}` })));
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(202));
    const stored = await storedSignals(runId);
    expect(stored.map((s) => s.name).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `n${i}`).sort());
    expect(new Set(stored.map((s) => s.signalId)).size).toBe(12);
    const { view } = await freshFold(runId);
    for (const on of [app, beside]) expect((await on.request('GET', `/api/runs/${runId}`, { headers: owner.headers })).body).toEqual(view);
  });

  it('leaves the kept state as it was when a command is refused', async () => {
    const runId = await startWaiting();
    expect((await signal(app, runId, { name: 'go', payload: { n: 9 } })).status).toBe(202);
    await waitForRun(app, owner.headers, runId);
    const before = await freshFold(runId);
    const refused = await signal(app, runId, { name: 'late' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('run_finished');
    const cancel = await app.request('POST', `/api/runs/${runId}/cancel`, { headers: owner.headers, body: {} });
    expect(cancel.status).toBe(409);
    expect(await freshFold(runId)).toEqual(before);
    expect((await app.request('GET', `/api/runs/${runId}`, { headers: owner.headers })).body).toEqual(before.view);
  });

  it("answers 404 to another organization's commands on a run its owner's instance keeps, and records nothing", async () => {
    const runId = await startWaiting();
    const before = await freshFold(runId);
    for (const on of [app, beside]) {
      expect((await on.request('GET', `/api/runs/${runId}`, { headers: owner.headers })).status).toBe(200);
      const signalled = await signal(on, runId, { name: 'go', payload: { n: 1 } }, other.headers);
      expect([signalled.status, signalled.body.error]).toEqual([404, 'not_found']);
      const cancelled = await on.request('POST', `/api/runs/${runId}/cancel`, { headers: other.headers, body: {} });
      expect([cancelled.status, cancelled.body.error]).toEqual([404, 'not_found']);
    }
    expect(await freshFold(runId)).toEqual(before);
  });
});
