import { startTestApp, type TestApp } from '../support/app';
import { addMember, signUp, type AuthHeaders, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, patchWorkflow } from '../support/run-api';

let app: TestApp;
let owner: SignedUp;
let other: SignedUp;

beforeAll(async () => {
  app = await startTestApp('workflow_revert');
  [owner, other] = [await signUp(app), await signUp(app)];
});
afterAll(() => app?.close());

const get = async (headers: AuthHeaders, id: string) => (await app.request('GET', `/api/workflows/${id}`, { headers })).body;
const versionOf = async (headers: AuthHeaders, id: string, version: number) => (await app.request('GET', `/api/workflows/${id}/versions/${version}`, { headers })).body.workflow;
const revert = (headers: AuthHeaders, id: string, body: unknown, extra: { query?: string; ifMatch?: string } = {}) =>
  app.request('POST', `/api/workflows/${id}/revert${extra.query ?? ''}`, { headers: { ...headers, ...(extra.ifMatch ? { 'if-match': extra.ifMatch } : {}) }, body });

/** After the empty version 1: v2 start → greet; v3 greet changed, a second step; v4 that step swapped for a condition with branches, variables and a new name. */
async function threeVersions(headers: AuthHeaders): Promise<string> {
  const id = await createWorkflow(app, headers, [add('start', 'trigger_manual'), add('greet', 'transform', { template: 'hello {{trigger.who}}' }), connect('start', 'greet')]);
  await patchWorkflow(app, headers, id, [
    { operation_type: 'update', block_id: 'greet', params: { template: 'hi {{trigger.who}}' }, name: 'Greeting' },
    add('shout', 'transform', { template: '{{greet.value}}!' }),
    connect('greet', 'shout'),
  ]);
  await patchWorkflow(app, headers, id, [
    { operation_type: 'remove', block_id: 'shout' },
    add('check', 'condition', { left: '{{greet.value}}', operator: 'exists' }),
    add('yes', 'transform', { template: 'yes' }),
    connect('greet', 'check'),
    connect('check', 'yes', 'true'),
    { operation_type: 'set_variables', variables: { tone: 'loud' } },
    { operation_type: 'set_metadata', name: 'renamed' },
  ]);
  return id;
}

const content = (workflow: { metadata: unknown; variables: unknown; blocks: { id: string }[]; connections: unknown[] }) => ({
  metadata: workflow.metadata,
  variables: workflow.variables,
  blocks: [...workflow.blocks].sort((a, b) => a.id.localeCompare(b.id)),
  connections: workflow.connections,
});

describe('POST /api/workflows/:id/revert', () => {
  it('takes a workflow back to a past version as a new version, recorded op by op, and runs start on it', async () => {
    const h = owner.headers;
    const id = await threeVersions(h);
    expect((await get(h, id)).version).toBe(4);
    const v2 = await versionOf(h, id, 2);

    const res = await revert(h, id, { version: 2 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, version: 5, revertedTo: 2, skipped_items: [], validation_errors: [], runnable: true });
    expect(res.headers.get('etag')).toBe('"5"');
    const now = await get(h, id);
    expect(content(now.workflow)).toEqual(content(v2));

    // The revert is a patch like any other in the history: its ops, applied.
    const history = await app.request('GET', `/api/workflows/${id}/history?limit=100`, { headers: h });
    const applied = history.body.data.filter((entry: { type: string; version?: number }) => entry.type === 'EditOpApplied');
    expect(applied.length).toBeGreaterThan(4);

    const run = await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: h, body: { input: { who: 'Ada' } } });
    expect(run.body).toMatchObject({ status: 'completed', workflowVersion: 5, outputs: { greet: { value: 'hello Ada' } } });
    expect(run.body.outputs).not.toHaveProperty('check');

    // And forward again, to the content of version 4; then back to the empty version 1.
    const again = await revert(h, id, { version: 4 });
    expect(again.body).toMatchObject({ ok: true, version: 6, revertedTo: 4 });
    expect(content((await get(h, id)).workflow)).toEqual(content(await versionOf(h, id, 4)));
    expect((await revert(h, id, { version: 1 })).body).toMatchObject({ version: 7, revertedTo: 1, workflow: { blocks: [], connections: [] } });
  });

  it('reverts across more ops than an agent\'s batch holds, as one version: 500 blocks (the most a workflow holds) and their chain, gone and back', async () => {
    const h = owner.headers;
    const ids = Array.from({ length: 499 }, (_, i) => `s${i}`);
    const ops = [
      add('start', 'trigger_manual'),
      ...ids.map((id) => add(id, 'transform', { template: `step ${id}` })),
      ...ids.map((id, i) => connect(i === 0 ? 'start' : ids[i - 1]!, id)),
    ];
    const id = await createWorkflow(app, h, ops.slice(0, 200));
    for (let at = 200; at < ops.length; at += 200) await patchWorkflow(app, h, id, ops.slice(at, at + 200));
    const full = await get(h, id);
    expect(full.workflow.blocks).toHaveLength(500);

    // Back to the empty version 1: 500 removes in one patch, one version.
    const emptied = await revert(h, id, { version: 1 });
    expect(emptied.status).toBe(200);
    expect(emptied.body).toMatchObject({ ok: true, version: full.version + 1, revertedTo: 1, workflow: { blocks: [], connections: [] } });
    expect(emptied.body.applied).toHaveLength(500);
    // And forward to the full content: 500 adds and 499 connects.
    const restored = await revert(h, id, { version: full.version });
    expect(restored.body).toMatchObject({ ok: true, version: full.version + 2, runnable: true });
    expect(restored.body.applied).toHaveLength(999);
    expect(content((await get(h, id)).workflow)).toEqual(content(full.workflow));
  });

  it('changes nothing for the current content, stores nothing on a dry run, and refuses a stale If-Match', async () => {
    const h = owner.headers;
    const id = await threeVersions(h);
    const same = await revert(h, id, { version: 4 });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ version: 4, revertedTo: 4 });

    const dry = await revert(h, id, { version: 2 }, { query: '?dry_run=true' });
    expect(dry.body).toMatchObject({ ok: true, revertedTo: 2 });
    expect(content(dry.body.workflow)).toEqual(content(await versionOf(h, id, 2)));
    expect((await get(h, id)).version).toBe(4);

    const stale = await revert(h, id, { version: 2 }, { ifMatch: '"3"' });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ error: 'version_mismatch', current: 4 });
    expect((await get(h, id)).version).toBe(4);
    expect((await revert(h, id, { version: 2 }, { ifMatch: '"4"' })).body).toMatchObject({ version: 5, revertedTo: 2 });
  });

  it('answers bad bodies with 400, unknown versions and foreign workflows with 404, and viewers with 403', async () => {
    const h = owner.headers;
    const id = await threeVersions(h);
    for (const body of [{}, { version: 0 }, { version: 'one' }, { version: 1.5 }]) {
      const res = await revert(h, id, body);
      expect({ body, status: res.status, error: res.body.error }).toEqual({ body, status: 400, error: 'invalid_body' });
    }
    const unknown = await revert(h, id, { version: 99 });
    expect([unknown.status, unknown.body.error]).toEqual([404, 'not_found']);
    const foreign = await revert(other.headers, id, { version: 2 });
    expect([foreign.status, foreign.body.error]).toEqual([404, 'not_found']);
    const viewer = await addMember(app, owner, 'viewer');
    expect((await revert(viewer.headers, id, { version: 2 })).status).toBe(403);
    expect((await get(h, id)).version).toBe(4);
  });
});
