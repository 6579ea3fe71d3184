import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, waitForLogs, waitForRun } from '../support/run-api';

/**
 * A delayed start (`startAt`): the run is recorded at once, stays queued — parked in the queue
 * until its instant, not held by a worker — and begins then; it can be cancelled before; an
 * idempotency key covers the instant.
 */
let app: TestApp;
let owner: SignedUp;
let workflowId: string;

beforeAll(async () => {
  app = await startTestApp('run_start_at');
  owner = await signUp(app);
  workflowId = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual'), add('out', 'transform', { template: 'ran {{trigger.n}}' }), connect('start', 'out')]);
});
afterAll(() => app?.close());

const start = (body: Record<string, unknown>) => app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: owner.headers, body });
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

describe('a delayed start', () => {
  it('stays queued until startAt, parked in the queue, then runs', async () => {
    const startAt = inMs(3000); // past the worker's 2 s hold: parked, due at startAt
    const accepted = await start({ input: { n: 1 }, startAt });
    expect(accepted.status).toBe(202);
    expect(accepted.body.status).toBe('queued');
    const runId = accepted.body.runId as string;
    expect((await app.request('GET', `/api/runs/${runId}`, { headers: owner.headers })).body).toMatchObject({ status: 'queued', startAt });
    const { rows } = await app.db.pool.query('SELECT available_at, lease_owner FROM run_state WHERE run_id = $1', [runId]);
    expect(rows[0]).toEqual({ available_at: new Date(startAt), lease_owner: null });

    expect(await waitForRun(app, owner.headers, runId)).toMatchObject({ status: 'completed', outputs: { out: { value: 'ran 1' } } });
    const [log] = await waitForLogs(app, owner.headers, runId, 1);
    expect(Date.parse(log.startedAt)).toBeGreaterThanOrEqual(Date.parse(startAt));
  });

  it('can be cancelled before it begins: nothing runs', async () => {
    const runId = (await start({ input: { n: 2 }, startAt: inMs(60_000) })).body.runId as string;
    expect((await app.request('POST', `/api/runs/${runId}/cancel`, { headers: owner.headers })).status).toBe(202);
    const cancelled = await waitForRun(app, owner.headers, runId);
    expect(cancelled).toMatchObject({ status: 'cancelled', outputs: {} });
    const events = (await app.request('GET', `/api/runs/${runId}/events`, { headers: owner.headers })).body.data.map((e: { type: string }) => e.type);
    expect(events).toEqual(['RunStarted', 'RunCancelRequested', 'RunCancelled']);
  });

  it('begins at once for an instant past; refuses one more than 366 days ahead or not an instant; a key covers the instant', async () => {
    const past = await start({ input: { n: 3 }, startAt: inMs(-60_000) });
    expect(await waitForRun(app, owner.headers, past.body.runId)).toMatchObject({ status: 'completed' });
    for (const startAt of [inMs(367 * 24 * 3600 * 1000), 'tomorrow', 12]) {
      const res = await start({ startAt });
      expect({ startAt, status: res.status, error: res.body.error }).toEqual({ startAt, status: 400, error: 'invalid_body' });
    }
    const at = inMs(3_600_000);
    const first = await start({ input: {}, startAt: at, idempotencyKey: 'later-1' });
    expect((await start({ input: {}, startAt: at, idempotencyKey: 'later-1' })).body).toMatchObject({ runId: first.body.runId, duplicate: true });
    const other = await start({ input: {}, startAt: inMs(7_200_000), idempotencyKey: 'later-1' });
    expect({ status: other.status, error: other.body.error }).toEqual({ status: 409, error: 'idempotency_conflict' });
    await app.request('POST', `/api/runs/${first.body.runId}/cancel`, { headers: owner.headers });
  });
});
