import { startTestApp, type TestApp } from '../support/app';
import { createApiKey, signUp, type SignedUp } from '../support/auth';

let app: TestApp;
let owner: SignedUp;
let other: SignedUp;

beforeAll(async () => {
  app = await startTestApp('workflows_crud');
  owner = await signUp(app);
  other = await signUp(app);
});
afterAll(() => app.close());

const create = async (headers: Record<string, string>, body: Record<string, unknown> = {}) => {
  const res = await app.request('POST', '/api/workflows', { headers, body });
  expect(res.status).toBe(201);
  return res.body.id as string;
};
const patch = (id: string, ops: unknown[], headers: Record<string, string> = owner.headers) =>
  app.request('POST', `/api/workflows/${id}/operations`, { headers, body: { ops } });

describe('workflow CRUD', () => {
  it('creates an empty workflow at version 1 and reads it back with its ETag and validation state', async () => {
    const res = await app.request('POST', '/api/workflows', { headers: owner.headers, body: { name: 'Onboarding', description: 'welcome users' } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      version: 1,
      workflow: { metadata: { name: 'Onboarding', description: 'welcome users' }, variables: {}, blocks: [], connections: [] },
    });
    const read = await app.request('GET', `/api/workflows/${res.body.id}`, { headers: owner.headers });
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('"1"');
    expect(read.body).toEqual({ id: res.body.id, version: 1, workflow: res.body.workflow, validation_errors: [], runnable: true });
  });

  it('refuses unknown fields in the create body', async () => {
    const res = await app.request('POST', '/api/workflows', { headers: owner.headers, body: { name: 'x', blocks: [] } });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_body');
  });

  it('reports validation errors and runnable=false on GET once the workflow is incomplete', async () => {
    const id = await create(owner.headers);
    const res = await patch(id, [{ operation_type: 'add', block_id: 'call', type: 'http_request', params: {} }]);
    expect(res.body).toMatchObject({ ok: false, version: 2, runnable: false });
    const read = await app.request('GET', `/api/workflows/${id}`, { headers: owner.headers });
    expect(read.headers.get('etag')).toBe('"2"');
    expect(read.body.runnable).toBe(false);
    expect(read.body.validation_errors).toEqual([expect.objectContaining({ block_id: 'call', field: 'url', code: 'required_param_missing' })]);
  });

  it('soft-deletes: 204, then 404 on every read and write, and gone from the list', async () => {
    const id = await create(owner.headers);
    expect((await app.request('DELETE', `/api/workflows/${id}`, { headers: owner.headers })).status).toBe(204);
    for (const [method, path] of routes(id)) {
      const res = await app.request(method, path, { headers: owner.headers, ...(method === 'POST' ? { body: { ops: [] } } : {}) });
      expect([method, path, res.status, res.body?.error]).toEqual([method, path, 404, 'not_found']);
    }
    const list = await app.request('GET', '/api/workflows?limit=200', { headers: owner.headers });
    expect(list.body.data.map((w: { id: string }) => w.id)).not.toContain(id);
  });

  it('lets a viewer-role key read but not write', async () => {
    const id = await create(owner.headers);
    const viewer = await createApiKey(app, owner.headers, { role: 'viewer' });
    expect((await app.request('GET', `/api/workflows/${id}`, { headers: viewer.headers })).status).toBe(200);
    const denied = await patch(id, [], viewer.headers);
    expect(denied.status).toBe(403);
    expect(denied.body.error).toBe('forbidden');
    expect((await app.request('POST', '/api/workflows', { headers: viewer.headers, body: {} })).status).toBe(403);
  });
});

describe('size', () => {
  it('skips params past 256 KiB (params_too_large) and past 4 MiB for the whole workflow (workflow_too_large)', async () => {
    // Before: a block's params had no bound: every patch rewrote, and answered with, the whole
    // workflow (35 MB after 40 blocks of 900 KB, 7 s a patch), and such params could never run.
    const id = await create(owner.headers);
    const fat = await patch(id, [{ operation_type: 'add', block_id: 'fat', type: 'transform', params: { template: 'x'.repeat(300_000) } }]);
    expect(fat.status).toBe(200);
    expect(fat.body.skipped_items).toEqual([expect.objectContaining({ index: 0, reason_code: 'params_too_large', block_id: 'fat' })]);
    expect(fat.body.version).toBe(1);
    const blob = 'y'.repeat(250_000);
    const answers = [];
    for (let i = 0; i < 17; i += 1) {
      answers.push((await patch(id, [{ operation_type: 'add', block_id: `b${i}`, type: 'transform', params: { template: blob } }])).body);
    }
    expect(answers.slice(0, 16).map((answer) => answer.skipped_items)).toEqual(Array(16).fill([]));
    expect(answers[16].skipped_items).toEqual([expect.objectContaining({ reason_code: 'workflow_too_large', block_id: 'b16' })]);
    const stored = await app.request('GET', `/api/workflows/${id}`, { headers: owner.headers });
    expect(stored.body.version).toBe(17);
    expect(stored.body.workflow.blocks).toHaveLength(16);
    // Its history events carry the workflow as it became (up to 4 MiB each): pages are cut by
    // size as well as count, and together still hold every event (one page of ~34 MB before).
    const entries: number[] = [];
    let pages = 0;
    for (let after = 0; ; ) {
      pages += 1;
      const page = await app.request('GET', `/api/workflows/${id}/history?limit=500&after=${after}`, { headers: owner.headers });
      entries.push(...page.body.data.map((entry: { streamVersion: number }) => entry.streamVersion));
      if (page.body.next === null) break;
      after = Number(page.body.next);
    }
    expect(pages).toBeGreaterThan(3);
    expect(entries).toEqual(Array.from({ length: entries.length }, (_, i) => i + 1));
  });
});

describe('listing', () => {
  it('pages the organization’s workflows with a keyset cursor, oldest first, without overlap', async () => {
    const user = await signUp(app);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await create(user.headers, { name: `wf ${i}` }));
    const seen: string[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const query: string = next ? `?limit=2&after=${encodeURIComponent(next)}` : '?limit=2';
      const res = await app.request('GET', `/api/workflows${query}`, { headers: user.headers });
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      for (const item of res.body.data) expect(item).toEqual({ id: expect.any(String), name: expect.any(String), version: 1, createdAt: expect.any(String), updatedAt: expect.any(String) });
      seen.push(...res.body.data.map((w: { id: string }) => w.id));
      next = res.body.next;
      pages += 1;
    } while (next);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
  });

  it('caps the limit and refuses a forged cursor', async () => {
    expect((await app.request('GET', '/api/workflows?limit=1000', { headers: owner.headers })).body.error).toBe('invalid_query');
    const forged = await app.request('GET', '/api/workflows?after=not-a-cursor', { headers: owner.headers });
    expect(forged.status).toBe(400);
    expect(forged.body.error).toBe('invalid_query');
  });

  it('never lists another organization’s workflows', async () => {
    const mine = await create(owner.headers);
    const list = await app.request('GET', '/api/workflows?limit=200', { headers: other.headers });
    expect(list.body.data.map((w: { id: string }) => w.id)).not.toContain(mine);
  });
});

describe('history and past versions', () => {
  it('shows every applied and skipped op with actor, agent label, time and resulting version', async () => {
    const id = await create(owner.headers);
    const agent = { ...owner.headers, 'x-thodare-agent': 'planner-bot/2.1' };
    await patch(id, [{ operation_type: 'add', block_id: 'start', type: 'trigger_manual' }, { operation_type: 'remove', block_id: 'ghost' }], agent);
    await patch(id, [{ operation_type: 'add', block_id: 'start', type: 'trigger_manual' }], agent);
    const res = await app.request('GET', `/api/workflows/${id}/history`, { headers: owner.headers });
    expect(res.status).toBe(200);
    expect(res.body.next).toBeNull();
    const rows = res.body.data.map((e: Record<string, unknown>) => [e.streamVersion, e.type, e.version]);
    expect(rows).toEqual([
      [1, 'WorkflowCreated', 1],
      [2, 'EditOpApplied', 2],
      [3, 'EditOpSkipped', 2],
      [4, 'WorkflowPatched', 2],
      [5, 'EditOpSkipped', 2],
    ]);
    const skip = res.body.data[2];
    expect(skip).toMatchObject({
      actor: { type: 'user', id: owner.userId },
      agent: 'planner-bot/2.1',
      recordedAt: expect.any(String),
      data: { index: 1, operation_type: 'remove', block_id: 'ghost', reason_code: 'block_not_found' },
    });
    expect(res.body.data[0].agent).toBeNull();
    expect(res.body.data[3].data).not.toHaveProperty('workflow');
  });

  it('pages history by stream version', async () => {
    const id = await create(owner.headers);
    await patch(id, [1, 2, 3, 4].map((n) => ({ operation_type: 'add', block_id: `b${n}`, type: 'transform', params: { template: n } })));
    const first = await app.request('GET', `/api/workflows/${id}/history?limit=4`, { headers: owner.headers });
    expect(first.body.data).toHaveLength(4);
    expect(first.body.next).toBe('4');
    const second = await app.request('GET', `/api/workflows/${id}/history?limit=4&after=${first.body.next}`, { headers: owner.headers });
    expect(second.body.data.map((e: { streamVersion: number }) => e.streamVersion)).toEqual([5, 6]);
    expect(second.body.next).toBeNull();
  });

  it('returns the workflow as it was at each version, and 404 for a version that never existed', async () => {
    const id = await create(owner.headers, { name: 'v' });
    await patch(id, [{ operation_type: 'add', block_id: 'a', type: 'transform', params: { template: 'a' } }]);
    await patch(id, [{ operation_type: 'remove', block_id: 'a' }, { operation_type: 'set_metadata', name: 'v3' }]);
    const v1 = await app.request('GET', `/api/workflows/${id}/versions/1`, { headers: owner.headers });
    expect(v1.body).toEqual({ version: 1, workflow: { metadata: { name: 'v', description: '' }, variables: {}, blocks: [], connections: [] } });
    const v2 = await app.request('GET', `/api/workflows/${id}/versions/2`, { headers: owner.headers });
    expect(v2.body.workflow.blocks.map((b: { id: string }) => b.id)).toEqual(['a']);
    const v3 = await app.request('GET', `/api/workflows/${id}/versions/3`, { headers: owner.headers });
    expect(v3.body.workflow).toMatchObject({ metadata: { name: 'v3' }, blocks: [] });
    for (const version of ['4', '0', 'abc', '99999999999']) {
      expect((await app.request('GET', `/api/workflows/${id}/versions/${version}`, { headers: owner.headers })).status).toBe(404);
    }
  });
});

describe('tenancy', () => {
  it('answers 404 not_found on every workflow route for another organization’s workflow, and changes nothing', async () => {
    const id = await create(owner.headers);
    await patch(id, [{ operation_type: 'add', block_id: 'a', type: 'transform', params: { template: 1 } }]);
    for (const [method, path] of [...routes(id), ['DELETE', `/api/workflows/${id}`] as const]) {
      const res = await app.request(method, path, { headers: other.headers, ...(method === 'POST' ? { body: { ops: [{ operation_type: 'remove', block_id: 'a' }] } } : {}) });
      expect([method, path, res.status, res.body?.error]).toEqual([method, path, 404, 'not_found']);
    }
    const mine = await app.request('GET', `/api/workflows/${id}`, { headers: owner.headers });
    expect(mine.body.version).toBe(2);
    expect(mine.body.workflow.blocks).toHaveLength(1);
  });
});

function routes(id: string): (readonly [string, string])[] {
  return [
    ['GET', `/api/workflows/${id}`],
    ['POST', `/api/workflows/${id}/operations`],
    ['POST', `/api/workflows/${id}/operations?dry_run=true`],
    ['GET', `/api/workflows/${id}/history`],
    ['GET', `/api/workflows/${id}/versions/1`],
  ];
}
