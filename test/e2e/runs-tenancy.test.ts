import { startTestApp, type TestApp } from '../support/app';
import { createApiKey, signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';

let app: TestApp;
let a: SignedUp;
let b: SignedUp;

beforeAll(async () => {
  app = await startTestApp('runs_tenancy');
  [a, b] = [await signUp(app), await signUp(app)];
});
afterAll(() => app?.close());

const waitingOn = (eventName: string) => [
  add('start', 'trigger_manual'),
  add('hold', 'wait_for_event', { eventName, correlationKey: 'shared-key' }),
  add('out', 'transform', { template: '{{hold.data}}' }),
  connect('start', 'hold'),
  connect('hold', 'out'),
];

describe('runs between organizations', () => {
  it("answers 404 for another organization's run on every run route", async () => {
    const workflowId = await createWorkflow(app, b.headers, waitingOn('private'));
    const started = await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: b.headers, body: {} });
    const runId = started.body.runId as string;
    await waitForRun(app, b.headers, runId, ['waiting']);
    const key = await createApiKey(app, a.headers, { role: 'admin' });

    for (const headers of [a.headers, key.headers]) {
      const calls: Array<[string, string, unknown?]> = [
        ['GET', `/api/runs/${runId}`],
        ['GET', `/api/runs/${runId}/logs`],
        ['GET', `/api/runs/${runId}/events`],
        ['GET', `/api/runs/${runId}/stream`],
        ['POST', `/api/runs/${runId}/cancel`, {}],
        ['POST', `/api/runs/${runId}/rerun`, {}],
        ['POST', `/api/runs/${runId}/signals`, { name: 'private' }],
        ['POST', `/api/workflows/${workflowId}/runs`, {}],
        ['POST', `/api/workflows/${workflowId}/run`, {}],
      ];
      for (const [method, path, body] of calls) {
        const res = await app.request(method, path, { headers, ...(body !== undefined ? { body } : {}) });
        expect({ method, path, status: res.status, error: res.body?.error }).toEqual({ method, path, status: 404, error: 'not_found' });
      }
      const listed = await app.request('GET', '/api/runs', { headers });
      expect(listed.body.data.map((r: { id: string }) => r.id)).not.toContain(runId);
    }
    // Nothing reached B's run.
    const mine = await app.request('GET', `/api/runs/${runId}`, { headers: b.headers });
    expect(mine.body.status).toBe('waiting');
    const events = await app.request('GET', `/api/runs/${runId}/events`, { headers: b.headers });
    expect(events.body.data.map((e: { type: string }) => e.type)).toEqual(['RunStarted', 'RunWaitingForEvent']);
  });

  it('never lets an event published in one organization wake a run of another', async () => {
    const inA = await createWorkflow(app, a.headers, waitingOn('deploy.done'));
    const inB = await createWorkflow(app, b.headers, waitingOn('deploy.done'));
    const runA = (await app.request('POST', `/api/workflows/${inA}/runs`, { headers: a.headers, body: {} })).body.runId as string;
    const runB = (await app.request('POST', `/api/workflows/${inB}/runs`, { headers: b.headers, body: {} })).body.runId as string;
    await waitForRun(app, a.headers, runA, ['waiting']);
    await waitForRun(app, b.headers, runB, ['waiting']);

    const published = await app.request('POST', '/api/events', { headers: a.headers, body: { name: 'deploy.done', correlationKey: 'shared-key', payload: 'for A' } });
    expect(published.body.matchedRuns).toBe(1);
    expect((await waitForRun(app, a.headers, runA)).outputs.out).toEqual({ value: 'for A' });
    expect((await app.request('GET', `/api/runs/${runB}`, { headers: b.headers })).body.status).toBe('waiting');

    // Nor does it wait for B's later waits: a B run that begins waiting now does not get A's event.
    const lateB = (await app.request('POST', `/api/workflows/${inB}/runs`, { headers: b.headers, body: {} })).body.runId as string;
    expect((await waitForRun(app, b.headers, lateB, ['waiting', 'completed'])).status).toBe('waiting');
    await app.request('POST', `/api/runs/${runB}/cancel`, { headers: b.headers, body: {} });
    await app.request('POST', `/api/runs/${lateB}/cancel`, { headers: b.headers, body: {} });
  });
});
