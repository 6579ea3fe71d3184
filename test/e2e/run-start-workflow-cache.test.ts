import { Pool } from 'pg';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, patchWorkflow } from '../support/run-api';

// A run start takes its workflow's current version from a per-process cache
// (src/workflows/current-workflows.ts) that the run's own append checks: a workflow is read once
// per version, and no start pins a version older than a committed patch — also a patch made
// through another instance, which this one never hears of.

let a: TestApp;
let b: TestApp;
let owner: SignedUp;

beforeAll(async () => {
  a = await startTestApp('workflow_cache');
  b = await startTestApp('workflow_cache_b', {}, { api: true, worker: false }, a.db);
  owner = await signUp(a);
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

const echo = (template: string) => [add('start', 'trigger_manual'), add('echo', 'transform', { template }), connect('start', 'echo')];
const startOn = (app: TestApp, workflowId: string) => app.request('POST', `/api/workflows/${workflowId}/runs?waitMs=10000`, { headers: owner.headers, body: {} });

/** The reads of a workflow's current version that `work` makes `app` send. */
async function workflowReadsDuring(app: TestApp, work: () => Promise<void>): Promise<number> {
  const queries = jest.spyOn(app.running.app.get(Pool), 'query');
  try {
    await work();
    return queries.mock.calls.filter(([query]) => (query as { name?: string }).name === 'thodare_current_workflow').length;
  } finally {
    queries.mockRestore();
  }
}

it('reads a workflow once per version, not once per run', async () => {
  // Written through the other instance: this one has kept nothing of it.
  const id = await createWorkflow(b, owner.headers, echo('one'));
  const reads = await workflowReadsDuring(a, async () => {
    for (let i = 0; i < 3; i += 1) expect((await startOn(a, id)).body).toMatchObject({ status: 'completed', outputs: { echo: { value: 'one' } } });
  });
  expect(reads).toBe(1);
});

it('pins the version a patch through this instance committed without reading it, or trying the version before', async () => {
  // Before, the patches and the starts of a process kept a version each: the first start after a
  // patch tried the version it had kept, had its append refused and started again from a read.
  const id = await createWorkflow(a, owner.headers, echo('before'));
  expect((await startOn(a, id)).body).toMatchObject({ workflowVersion: 2, outputs: { echo: { value: 'before' } } });
  await patchWorkflow(a, owner.headers, id, [{ operation_type: 'update', block_id: 'echo', params: { template: 'after' } }]);
  const reads = await workflowReadsDuring(a, async () => {
    expect((await startOn(a, id)).body).toMatchObject({ status: 'completed', workflowVersion: 3, outputs: { echo: { value: 'after' } } });
  });
  expect(reads).toBe(0);
  // Deleted through this instance: refused at once.
  expect((await a.request('DELETE', `/api/workflows/${id}`, { headers: owner.headers })).status).toBe(204);
  const refused = await startOn(a, id);
  expect(refused.status).toBe(404);
  expect(refused.body.error).toBe('not_found');
});

it('pins the version a patch through another instance committed, on the very next start', async () => {
  const id = await createWorkflow(a, owner.headers, echo('before'));
  const first = await startOn(a, id);
  expect(first.body).toMatchObject({ workflowVersion: 2, outputs: { echo: { value: 'before' } } });
  await patchWorkflow(b, owner.headers, id, [{ operation_type: 'update', block_id: 'echo', params: { template: 'after' } }]);
  const next = await startOn(a, id);
  expect(next.body).toMatchObject({ workflowVersion: 3, outputs: { echo: { value: 'after' } } });
});

it('refuses to start a workflow deleted through another instance', async () => {
  const id = await createWorkflow(a, owner.headers, echo('doomed'));
  expect((await startOn(a, id)).status).toBe(200);
  expect((await b.request('DELETE', `/api/workflows/${id}`, { headers: owner.headers })).status).toBe(204);
  const refused = await startOn(a, id);
  expect(refused.status).toBe(404);
  expect(refused.body.error).toBe('not_found');
});

it('starts a workflow repaired through another instance after a refusal', async () => {
  // The trigger feeds nothing: the transform's template names a block that does not exist.
  const id = await createWorkflow(a, owner.headers, echo('{{ghost.value}}'));
  const refused = await startOn(a, id);
  expect(refused.status).toBe(422);
  expect(refused.body.error).toBe('workflow_not_runnable');
  await patchWorkflow(b, owner.headers, id, [{ operation_type: 'update', block_id: 'echo', params: { template: 'fixed' } }]);
  expect((await startOn(a, id)).body).toMatchObject({ status: 'completed', outputs: { echo: { value: 'fixed' } } });
});
