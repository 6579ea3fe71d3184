import { z } from 'zod';
import { defineConnector } from '../../src/domain/connectors/define-connector';
import { userOnly } from '../../src/domain/connectors/visibility';
import { startTestApp, type TestApp } from '../support/app';
import { createApiKey, signUp, type CreatedKey, type SignedUp } from '../support/auth';

// A deployment connector with a user-only param: no builtin has one.
const sendInvoice = defineConnector({
  type: 'send_invoice',
  name: 'Send invoice',
  description: 'Sends an invoice.',
  category: 'billing',
  kind: 'action',
  params: z.object({ customer: z.string(), approvedLimit: userOnly(z.number().optional()) }),
  outputs: z.object({ invoiceId: z.string() }),
  run: async () => ({ invoiceId: 'inv-1' }),
});

const BODY_LIMIT = 64 * 1024;
let app: TestApp;
let owner: SignedUp;
let key: CreatedKey;

beforeAll(async () => {
  app = await startTestApp('workflows_patch', { THODARE_BODY_LIMIT: String(BODY_LIMIT) }, undefined, undefined, [sendInvoice]);
  owner = await signUp(app);
  key = await createApiKey(app, owner.headers, { role: 'member' });
});
afterAll(() => app.close());

const create = async () => (await app.request('POST', '/api/workflows', { headers: owner.headers, body: {} })).body.id as string;
const patch = (id: string, ops: unknown[], headers: Record<string, string> = key.headers, query = '') =>
  app.request('POST', `/api/workflows/${id}/operations${query}`, { headers, body: { ops } });
const add = (id: string, n: unknown = id) => ({ operation_type: 'add', block_id: id, type: 'transform', params: { template: n } });
const history = async (id: string) => (await app.request('GET', `/api/workflows/${id}/history?limit=500`, { headers: owner.headers })).body.data as { type: string; version: number }[];

describe('If-Match', () => {
  it('accepts "N", N and W/"N" for the current version and answers 412 version_mismatch with current otherwise', async () => {
    const id = await create();
    const first = await patch(id, [add('a')], { ...key.headers, 'if-match': '"1"' });
    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).toBe('"2"');
    expect((await patch(id, [add('b')], { ...key.headers, 'if-match': '2' })).body.version).toBe(3);
    expect((await patch(id, [add('c')], { ...key.headers, 'if-match': 'W/"3"' })).body.version).toBe(4);
    const stale = await patch(id, [add('d')], { ...key.headers, 'if-match': '"2"' });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ error: 'version_mismatch', current: 4 });
    expect((await patch(id, [add('d')], { ...key.headers, 'if-match': 'garbage' })).status).toBe(412);
    const read = await app.request('GET', `/api/workflows/${id}`, { headers: owner.headers });
    expect(read.body.workflow.blocks.map((b: { id: string }) => b.id)).toEqual(['a', 'b', 'c']);
  });
});

describe('Idempotency-Key', () => {
  it('replays the stored response for the same key and body without applying twice', async () => {
    const id = await create();
    const headers = { ...key.headers, 'idempotency-key': 'retry-123' };
    const first = await patch(id, [add('a'), { operation_type: 'remove', block_id: 'ghost' }], headers);
    const again = await patch(id, [add('a'), { operation_type: 'remove', block_id: 'ghost' }], headers);
    expect(again.status).toBe(200);
    expect(again.text).toBe(first.text);
    const events = await history(id);
    expect(events.filter((e) => e.type === 'WorkflowPatched')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'EditOpApplied')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'EditOpSkipped')).toHaveLength(1);
  });

  it('answers 409 idempotency_conflict when the key comes back with another body', async () => {
    const id = await create();
    const headers = { ...key.headers, 'idempotency-key': 'k-409' };
    expect((await patch(id, [add('a')], headers)).status).toBe(200);
    const conflict = await patch(id, [add('b')], headers);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toBe('idempotency_conflict');
    expect((await app.request('GET', `/api/workflows/${id}`, { headers: owner.headers })).body.version).toBe(2);
  });

  it('refuses an unusable key', async () => {
    const id = await create();
    const res = await patch(id, [], { ...key.headers, 'idempotency-key': 'x'.repeat(300) });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_idempotency_key');
  });
});

describe('dry_run', () => {
  it('returns the result but stores nothing: version and history unchanged', async () => {
    const id = await create();
    await patch(id, [add('a')]);
    const before = await history(id);
    const dry = await patch(id, [add('b'), { operation_type: 'remove', block_id: 'ghost' }], key.headers, '?dry_run=true');
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ version: 3, ok: false });
    expect(dry.body.workflow.blocks.map((b: { id: string }) => b.id)).toEqual(['a', 'b']);
    expect(dry.body.skipped_items).toHaveLength(1);
    const read = await app.request('GET', `/api/workflows/${id}`, { headers: owner.headers });
    expect(read.body.version).toBe(2);
    expect(read.body.workflow.blocks).toHaveLength(1);
    expect(await history(id)).toEqual(before);
  });
});

describe('limits', () => {
  it('answers 400 batch_too_large for more than 200 ops and applies none of them', async () => {
    const id = await create();
    const ops = Array.from({ length: 201 }, (_, i) => add(`b${i}`));
    const res = await patch(id, ops);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'batch_too_large', max: 200, received: 201 });
    expect((await history(id)).map((e) => e.type)).toEqual(['WorkflowCreated']);
    expect((await patch(id, ops.slice(0, 200))).body.version).toBe(2);
  });

  it('answers 413 payload_too_large for a body over the limit', async () => {
    const id = await create();
    const res = await patch(id, [{ operation_type: 'add', block_id: 'big', type: 'transform', params: { template: 'x'.repeat(BODY_LIMIT) } }]);
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('payload_too_large');
  });

  it('skips ops that are not objects (invalid_operation) instead of refusing the batch', async () => {
    const id = await create();
    const res = await patch(id, [42, 'add', null, [], add('a')]);
    expect(res.status).toBe(200);
    expect(res.body.skipped_items.map((s: { index: number; reason_code: string }) => [s.index, s.reason_code])).toEqual([
      [0, 'invalid_operation'],
      [1, 'invalid_operation'],
      [2, 'invalid_operation'],
      [3, 'invalid_operation'],
    ]);
    expect(res.body.applied).toEqual([{ index: 4, operation_type: 'add', block_id: 'a' }]);
    expect(res.body.version).toBe(2);
  });

  it('refuses a body without an ops array', async () => {
    const id = await create();
    const res = await app.request('POST', `/api/workflows/${id}/operations`, { headers: key.headers, body: { ops: 'nope' } });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_body');
  });
});

describe('hidden and user-only params', () => {
  it('skips a hidden param with hidden_param_in_input and the value is stored and returned nowhere', async () => {
    const id = await create();
    const token = 'xoxb-never-store-7f3a9c';
    const res = await patch(id, [
      { operation_type: 'add', block_id: 'notify', type: 'slack_send_message', params: { channel: '#ops', text: 'hi', botToken: token } },
      { operation_type: 'add', block_id: 'start', type: 'trigger_manual' },
    ]);
    expect(res.body.skipped_items).toEqual([expect.objectContaining({ index: 0, reason_code: 'hidden_param_in_input', suggestion: expect.any(Object) })]);
    expect(res.text).not.toContain(token);
    const { rows } = await app.db.pool.query('SELECT count(*)::int AS n FROM events WHERE data::text LIKE $1 OR metadata::text LIKE $1', [`%${token}%`]);
    expect(rows[0].n).toBe(0);
    const recorded = await app.db.pool.query(`SELECT data FROM events WHERE stream_id = $1 AND type = 'EditOpSkipped'`, [`workflow-${id}`]);
    expect(recorded.rows[0].data.op.params.botToken).toBe('[hidden]');
    const tables = await app.db.pool.query('SELECT count(*)::int AS n FROM workflows WHERE workflow::text LIKE $1', [`%${token}%`]);
    expect(tables.rows[0].n).toBe(0);
    expect(app.logs.join('\n')).not.toContain(token);
    const hist = await app.request('GET', `/api/workflows/${id}/history`, { headers: owner.headers });
    expect(hist.text).not.toContain(token);
  });

  it('refuses a user-only param from an API key (user_only_param) and applies it from a session', async () => {
    const id = await create();
    const op = { operation_type: 'add', block_id: 'bill', type: 'send_invoice', params: { customer: 'acme', approvedLimit: 500 } };
    const byKey = await patch(id, [op], key.headers);
    expect(byKey.body.skipped_items).toEqual([expect.objectContaining({ reason_code: 'user_only_param', suggestion: expect.objectContaining({ params: { customer: 'acme' } }) })]);
    expect(byKey.body.version).toBe(1);
    const bySession = await patch(id, [op], owner.headers);
    expect(bySession.body).toMatchObject({ ok: true, version: 2, skipped_items: [] });
    expect(bySession.body.workflow.blocks[0].params).toEqual({ customer: 'acme', approvedLimit: 500 });
  });
});

describe('prototype pollution', () => {
  it('refuses JSON with own __proto__ or constructor.prototype keys at parse time', async () => {
    const id = await create();
    for (const raw of [
      '{"ops":[{"operation_type":"add","block_id":"a","type":"transform","params":{"__proto__":{"polluted":true}}}]}',
      '{"ops":[],"constructor":{"prototype":{"polluted":true}}}',
    ]) {
      const res = await app.request('POST', `/api/workflows/${id}/operations`, { headers: key.headers, raw });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_json');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('skips constructor/prototype/__proto__ as block ids and param names and stores none of them', async () => {
    const id = await create();
    const res = await patch(id, [
      { operation_type: 'add', block_id: 'constructor', type: 'transform', params: { template: 1 } },
      { operation_type: 'add', block_id: 'prototype', type: 'transform', params: { template: 1 } },
      { operation_type: 'add', block_id: '__proto__', type: 'transform', params: { template: 1 } },
      { operation_type: 'add', block_id: 'ok', type: 'transform', params: { constructor: 1, template: 1 } },
      { operation_type: 'add', block_id: 'ok2', type: 'transform', params: { template: { prototype: { x: 1 } } } },
      { operation_type: 'set_variables', variables: { constructor: 'x' } },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.skipped_items).toHaveLength(6);
    expect(res.body.version).toBe(1);
    const read = await app.request('GET', `/api/workflows/${id}`, { headers: owner.headers });
    expect(read.body.workflow).toEqual({ metadata: expect.any(Object), variables: {}, blocks: [], connections: [] });
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('concurrent patches over HTTP', () => {
  it('without If-Match: both apply in some order and history shows both batches', async () => {
    const id = await create();
    const [a, b] = await Promise.all([patch(id, [add('from_a1'), add('from_a2')]), patch(id, [add('from_b1')])]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect([a.body.version, b.body.version].sort()).toEqual([2, 3]);
    const read = await app.request('GET', `/api/workflows/${id}`, { headers: owner.headers });
    expect(read.body.workflow.blocks.map((x: { id: string }) => x.id).sort()).toEqual(['from_a1', 'from_a2', 'from_b1']);
    const events = await history(id);
    expect(events.filter((e) => e.type === 'WorkflowPatched').map((e) => e.version)).toEqual([2, 3]);
    expect(events.filter((e) => e.type === 'EditOpApplied')).toHaveLength(3);
  });

  it('with If-Match on the same version: exactly one wins, the other gets 412 with current', async () => {
    const id = await create();
    const headers = { ...key.headers, 'if-match': '"1"' };
    const results = await Promise.all([patch(id, [add('one')], headers), patch(id, [add('two')], headers)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 412]);
    expect(results.find((r) => r.status === 412)?.body).toMatchObject({ error: 'version_mismatch', current: 2 });
    const read = await app.request('GET', `/api/workflows/${id}`, { headers: owner.headers });
    expect(read.body.workflow.blocks).toHaveLength(1);
  });
});
