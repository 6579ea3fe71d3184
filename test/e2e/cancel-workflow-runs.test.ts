import { startTestApp, type TestApp } from '../support/app';
import { addMember, signUp, type AuthHeaders, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';

/**
 * `POST /api/workflows/:id/runs/cancel`: stops every run of one workflow that has not ended, a
 * page at a time — not its ended runs, not another workflow's, never another organization's.
 */
let app: TestApp;
let owner: SignedUp;
let other: SignedUp;

beforeAll(async () => {
  app = await startTestApp('cancel_workflow_runs');
  [owner, other] = [await signUp(app), await signUp(app)];
});
afterAll(() => app?.close());

const holding = (h: AuthHeaders) => createWorkflow(app, h, [add('start', 'trigger_manual'), add('hold', 'wait_for_event', { eventName: 'never' }), connect('start', 'hold')]);

async function waitingRun(h: AuthHeaders, workflowId: string): Promise<string> {
  const started = await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: h, body: { input: {} } });
  await waitForRun(app, h, started.body.runId, ['waiting']);
  return started.body.runId;
}

const cancelAll = (h: AuthHeaders, workflowId: string, body?: unknown) => app.request('POST', `/api/workflows/${workflowId}/runs/cancel`, { headers: h, ...(body !== undefined ? { body } : {}) });

describe('cancelling every run of a workflow', () => {
  it('stops the runs that have not ended, a page at a time, and nothing else', async () => {
    const h = owner.headers;
    const target = await holding(h);
    const bystander = await holding(h);
    const runs = [await waitingRun(h, target), await waitingRun(h, target), await waitingRun(h, target)];
    const spared = await waitingRun(h, bystander);

    const first = await cancelAll(h, target, { limit: 2, reason: 'bad deploy' });
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ cancelled: runs.slice(0, 2), next: expect.any(String) });
    const second = await cancelAll(h, target, { reason: 'bad deploy', after: first.body.next });
    expect(second.body).toEqual({ cancelled: [runs[2]], next: null });
    for (const runId of runs) expect(await waitForRun(app, h, runId)).toMatchObject({ status: 'cancelled' });
    const requested = await app.db.pool.query(`SELECT data FROM events WHERE stream_id = $1 AND type = 'RunCancelRequested'`, [`run-${runs[0]}`]);
    expect(requested.rows[0].data).toMatchObject({ reason: 'bad deploy', by: `user:${owner.userId}` });
    expect((await app.request('GET', `/api/runs/${spared}`, { headers: h })).body.status).toBe('waiting');
    // Nothing left: an empty answer.
    expect((await cancelAll(h, target)).body).toEqual({ cancelled: [], next: null });
  });

  it('takes only runs started before startedBefore, and the runs of a deleted workflow', async () => {
    const h = owner.headers;
    const workflowId = await holding(h);
    const older = await waitingRun(h, workflowId);
    const cut = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    const newer = await waitingRun(h, workflowId);
    expect((await cancelAll(h, workflowId, { startedBefore: cut })).body).toEqual({ cancelled: [older], next: null });
    expect(await waitForRun(app, h, older)).toMatchObject({ status: 'cancelled' });
    expect((await app.request('DELETE', `/api/workflows/${workflowId}`, { headers: h })).status).toBe(204);
    expect((await cancelAll(h, workflowId)).body).toEqual({ cancelled: [newer], next: null });
  });

  it("answers another organization's workflow and an unknown one 404, a viewer 403, a bad body 400, changing nothing", async () => {
    const h = owner.headers;
    const workflowId = await holding(h);
    const runId = await waitingRun(h, workflowId);
    for (const [headers, id] of [[other.headers, workflowId], [h, 'no-such-workflow']] as const) {
      const res = await cancelAll(headers, id);
      expect({ id, status: res.status, error: res.body.error }).toEqual({ id, status: 404, error: 'not_found' });
    }
    const viewer = await addMember(app, owner, 'viewer');
    expect((await cancelAll(viewer.headers, workflowId)).status).toBe(403);
    for (const body of [{ limit: 0 }, { limit: 501 }, { startedBefore: 'yesterday' }, { reason: 7 }, { after: 'page-two' }]) {
      const res = await cancelAll(h, workflowId, body);
      expect({ body, status: res.status, error: res.body.error }).toEqual({ body, status: 400, error: 'invalid_body' });
    }
    expect((await app.request('GET', `/api/runs/${runId}`, { headers: h })).body.status).toBe('waiting');
  });
});
