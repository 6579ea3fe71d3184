import { z } from 'zod';
import { analyticsSchemaName } from '../../src/analytics/analytics-schema';
import { defineConnector } from '../../src/domain/connectors/define-connector';
import { mostAdmittedAtOnce } from '../support/concurrency-lines';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, patchWorkflow, waitForRun } from '../support/run-api';

/**
 * A workflow's concurrency limit (`set_metadata` `concurrency`): at most `limit` of its runs begun
 * and not ended at once, per value at `key_path` in the input; the rest are queued, hold no
 * lease, and are admitted first started, first admitted, as places free.
 */
const entered: string[] = [];
const gates = new Map<string, () => void>();
const gate = defineConnector({
  type: 'gate',
  name: 'Gate',
  description: 'Answers once the test opens its label.',
  category: 'test',
  kind: 'action',
  retry: { maxAttempts: 1, initialIntervalMs: 0, backoffCoefficient: 1, maxIntervalMs: 0 },
  params: z.object({ label: z.string() }),
  outputs: z.object({ label: z.string() }),
  run: ({ label }) =>
    new Promise((resolve) => {
      entered.push(label);
      gates.set(label, () => resolve({ label }));
    }),
});

let app: TestApp;
let owner: SignedUp;

beforeAll(async () => {
  app = await startTestApp('run_concurrency', {}, undefined, undefined, [gate]);
  owner = await signUp(app);
});
afterAll(() => app?.close());

const limit = (concurrency: { limit: number; key_path?: string } | null) => ({ operation_type: 'set_metadata', concurrency });

async function gatedWorkflow(concurrency: { limit: number; key_path?: string }, extra: unknown[] = []): Promise<string> {
  return createWorkflow(app, owner.headers, [add('start', 'trigger_manual'), add('call', 'gate', { label: '{{trigger.label}}' }), connect('start', 'call'), limit(concurrency), ...extra]);
}

async function start(workflowId: string, input: Record<string, unknown>): Promise<string> {
  const started = await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: owner.headers, body: { input } });
  expect(started.status).toBe(202);
  return started.body.runId as string;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let tries = 0; tries < 400; tries++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const entering = (label: string) => until(`${label} to enter its step`, () => (entered.includes(label) ? true : undefined));
const open = (label: string) => {
  const release = gates.get(label);
  if (!release) throw new Error(`${label} is not at its gate`);
  release();
};
const run = async (runId: string) => (await app.request('GET', `/api/runs/${runId}`, { headers: owner.headers })).body;
const eventTypes = async (runId: string) => ((await app.request('GET', `/api/runs/${runId}/events`, { headers: owner.headers })).body.data as { type: string }[]).map((e) => e.type);
const lineRows = async (workflowId: string) =>
  (await app.db.pool.query('SELECT run_id, admitted FROM run_concurrency WHERE workflow_id = $1 ORDER BY seq', [workflowId])).rows as { run_id: string; admitted: boolean }[];

/** The run's row in `analytics_v1.runs` once the analytics projection recorded its end. */
async function analyticsRun(runId: string): Promise<Record<string, unknown>> {
  return until(`the analytics row of ${runId}`, async () => {
    const { rows } = await app.db.pool.query(`SELECT * FROM "${analyticsSchemaName(app.db.schema)}".runs WHERE run_id = $1 AND status <> 'active'`, [runId]);
    return rows[0] as Record<string, unknown> | undefined;
  });
}

describe('a concurrency limit', () => {
  it('queues the runs past the limit, holding no lease, and admits them first started first, as places free', async () => {
    const id = await gatedWorkflow({ limit: 1 });
    const first = await start(id, { label: 'one-a' });
    await entering('one-a');
    const second = await start(id, { label: 'one-b' });
    const third = await start(id, { label: 'one-c' });

    // Queued: no step began, no lease is held, and the line knows the order.
    await until('the second run to queue', async () => ((await lineRows(id)).length === 3 ? true : undefined));
    expect(await run(second)).toMatchObject({ status: 'queued', concurrency: { key: '', limit: 1, admitted: false }, waitingFor: null });
    expect(await eventTypes(second)).toEqual(['RunStarted']);
    const { rows: leases } = await app.db.pool.query('SELECT run_id, lease_owner FROM run_state WHERE run_id = ANY($1)', [[second, third]]);
    expect(leases.every((row: { lease_owner: string | null }) => row.lease_owner === null)).toBe(true);
    expect(await run(first)).toMatchObject({ status: 'running', concurrency: { admitted: true } });
    const lines = await app.request('GET', `/api/workflows/${id}/concurrency`, { headers: owner.headers });
    expect(lines.body).toEqual({ data: [{ key: '', running: 1, queued: 2, queuedSince: expect.any(String) }], next: null });
    expect(await lineRows(id)).toEqual([
      { run_id: first, admitted: true },
      { run_id: second, admitted: false },
      { run_id: third, admitted: false },
    ]);

    open('one-a');
    await entering('one-b');
    expect(await run(third)).toMatchObject({ status: 'queued', concurrency: { admitted: false } });
    open('one-b');
    await entering('one-c');
    open('one-c');
    for (const runId of [first, second, third]) expect(await waitForRun(app, owner.headers, runId)).toMatchObject({ status: 'completed' });
    expect(entered.filter((label) => label.startsWith('one-'))).toEqual(['one-a', 'one-b', 'one-c']);
    expect(await eventTypes(second)).toEqual(['RunStarted', 'RunAdmitted', 'StepAttemptStarted', 'StepAttemptSucceeded', 'RunCompleted']);
    expect(await mostAdmittedAtOnce(app.db.pool, [first, second, third])).toBe(1);
    expect(await lineRows(id)).toEqual([]);
    // Analysts see the line and how long each run waited for its place.
    const waited = await analyticsRun(third);
    expect(waited).toMatchObject({ concurrency_key: '', status: 'completed' });
    expect(Number(waited.concurrency_wait_ms)).toBeGreaterThanOrEqual(0);
    // (pg gives Dates: String() of one drops its milliseconds.)
    const ms = (value: unknown) => (value as Date).getTime();
    expect(ms(waited.started_at) + Number(waited.concurrency_wait_ms)).toBeGreaterThanOrEqual(ms((await analyticsRun(second)).ended_at) - 1);
  });

  it('keeps at most `limit` runs going among many started at once', async () => {
    const id = await gatedWorkflow({ limit: 2 });
    const labels = Array.from({ length: 8 }, (_, i) => `two-${i}`);
    const runIds = await Promise.all(labels.map((label) => start(id, { label })));
    const opened = new Set<string>();
    while (opened.size < labels.length) {
      const at = await until('a run at its gate', () => labels.find((label) => entered.includes(label) && !opened.has(label)));
      const running = labels.filter((label) => entered.includes(label) && !opened.has(label));
      expect(running.length).toBeLessThanOrEqual(2);
      opened.add(at);
      open(at);
    }
    for (const runId of runIds) expect(await waitForRun(app, owner.headers, runId)).toMatchObject({ status: 'completed' });
    expect(await mostAdmittedAtOnce(app.db.pool, runIds)).toBe(2);
  });

  it('gives each value at key_path its own line', async () => {
    const id = await gatedWorkflow({ limit: 1, key_path: 'customer.id' });
    const x1 = await start(id, { label: 'key-x1', customer: { id: 'x' } });
    const y1 = await start(id, { label: 'key-y1', customer: { id: 'y' } });
    await entering('key-x1');
    await entering('key-y1');
    const x2 = await start(id, { label: 'key-x2', customer: { id: 'x' } });
    const none = await start(id, { label: 'key-none' });
    await entering('key-none');
    await until('x2 to queue', async () => ((await run(x2)).concurrency?.admitted === false && (await lineRows(id)).length === 4 ? true : undefined));
    expect(await run(x2)).toMatchObject({ status: 'queued', concurrency: { key: 'x', limit: 1, admitted: false } });
    expect(await run(none)).toMatchObject({ concurrency: { key: '', admitted: true } });
    // The lines, a page at a time, by key.
    const pages: unknown[] = [];
    let after: string | null = null;
    do {
      const page: { status: number; body: { data: unknown[]; next: string | null } } = await app.request('GET', `/api/workflows/${id}/concurrency?limit=2${after ? `&after=${after}` : ''}`, { headers: owner.headers });
      pages.push(...page.body.data);
      after = page.body.next;
    } while (after);
    expect(pages).toEqual([
      { key: '', running: 1, queued: 0, queuedSince: null },
      { key: 'x', running: 1, queued: 1, queuedSince: expect.any(String) },
      { key: 'y', running: 1, queued: 0, queuedSince: null },
    ]);
    expect((await app.request('GET', `/api/workflows/${id}/concurrency?after=forged`, { headers: owner.headers })).body).toMatchObject({ error: 'invalid_query' });
    open('key-x1');
    await entering('key-x2');
    for (const label of ['key-y1', 'key-x2', 'key-none']) open(label);
    for (const runId of [x1, y1, x2, none]) expect(await waitForRun(app, owner.headers, runId)).toMatchObject({ status: 'completed' });
  });

  it('lets a queued run be cancelled or time out, and the line moves on', async () => {
    const id = await gatedWorkflow({ limit: 1 });
    const first = await start(id, { label: 'end-a' });
    await entering('end-a');
    // Pinned at the start: the runs started from now on time out, the first one does not.
    await patchWorkflow(app, owner.headers, id, [{ operation_type: 'set_metadata', timeout_ms: 1500 }]);
    const cancelled = await start(id, { label: 'end-b' });
    const timedOut = await start(id, { label: 'end-c' });
    await until('both to queue', async () => ((await lineRows(id)).length === 3 ? true : undefined));
    const cancel = await app.request('POST', `/api/runs/${cancelled}/cancel`, { headers: owner.headers, body: { reason: 'not needed' } });
    expect(cancel.status).toBe(202);
    expect(await waitForRun(app, owner.headers, cancelled)).toMatchObject({ status: 'cancelled', concurrency: { admitted: false } });
    // The first run holds the only place past the deadline of the last one, queued all along.
    expect(await waitForRun(app, owner.headers, timedOut)).toMatchObject({ status: 'failed', error: { code: 'run_timed_out' }, concurrency: { admitted: false } });
    expect(await eventTypes(timedOut)).toEqual(['RunStarted', 'RunFailed']);
    expect(Number((await analyticsRun(timedOut)).concurrency_wait_ms)).toBeGreaterThanOrEqual(1500);
    expect(entered).not.toContain('end-b');
    expect(await lineRows(id)).toEqual([{ run_id: first, admitted: true }]);
    open('end-a');
    expect(await waitForRun(app, owner.headers, first)).toMatchObject({ status: 'completed' });
    expect(await lineRows(id)).toEqual([]);
    expect((await app.request('GET', `/api/workflows/${id}/concurrency`, { headers: owner.headers })).body).toEqual({ data: [], next: null });
    // The line is free again: a new run is admitted at once.
    const next = await start(id, { label: 'end-d' });
    await entering('end-d');
    open('end-d');
    expect(await waitForRun(app, owner.headers, next)).toMatchObject({ status: 'completed' });
  });

  it('is set, bounded and removed by set_metadata, applies to runs started after, and a revert restores it', async () => {
    const h = owner.headers;
    const id = await createWorkflow(app, h, [add('start', 'trigger_manual'), add('out', 'transform', { template: 'done' }), connect('start', 'out')]);
    const refused = await app.request('POST', `/api/workflows/${id}/operations`, {
      headers: h,
      body: { ops: [limit({ limit: 0 }), limit({ limit: 2, key_path: 'a.__proto__' }), limit({ limit: 2, key_path: 'a b' })] },
    });
    expect(refused.body.skipped_items).toEqual([0, 1, 2].map((index) => expect.objectContaining({ index, reason_code: 'invalid_operation', reason: expect.stringContaining('concurrency') })));
    await patchWorkflow(app, h, id, [limit({ limit: 3, key_path: 'tenant' })]);
    expect((await app.request('GET', `/api/workflows/${id}`, { headers: h })).body.workflow.metadata).toMatchObject({ concurrency: { limit: 3, keyPath: 'tenant' } });
    const limited = await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: h, body: { input: { tenant: 't1' } } });
    expect(limited.body).toMatchObject({ status: 'completed', concurrency: { key: 't1', limit: 3, admitted: true } });
    await patchWorkflow(app, h, id, [limit(null)]);
    expect((await app.request('GET', `/api/workflows/${id}`, { headers: h })).body.workflow.metadata).not.toHaveProperty('concurrency');
    const unlimited = await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: h, body: { input: {} } });
    expect(unlimited.body).toMatchObject({ status: 'completed', concurrency: null });
    expect(await eventTypes(unlimited.body.id)).not.toContain('RunAdmitted');

    const version = (await app.request('GET', `/api/workflows/${id}`, { headers: h })).body.version;
    const reverted = await app.request('POST', `/api/workflows/${id}/revert`, { headers: h, body: { version: version - 1 } });
    expect(reverted.body.workflow.metadata).toMatchObject({ concurrency: { limit: 3, keyPath: 'tenant' } });
  });
});
