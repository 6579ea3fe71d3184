import { createHmac, randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { Webhook } from 'standardwebhooks';
import { deliveryStream } from '../../src/domain/webhook/webhook.events';
import { DeliveryRecorder } from '../../src/webhooks/delivery-recorder';
import { startTestApp, type TestApp } from '../support/app';
import { readUntil } from '../support/database';
import { recordStatements } from '../support/statements';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';

let app: TestApp;
let owner: SignedUp;
const METRICS_TOKEN = 'webhooks-metrics-token';

beforeAll(async () => {
  // No claim pass on a timer (notifications wake the worker): one in flight would hold the free
  // slots that a delivery's run is handed over with, and that run would go through the queue.
  app = await startTestApp('webhooks', { THODARE_BODY_LIMIT: String(64 * 1024), THODARE_METRICS_TOKEN: METRICS_TOKEN, THODARE_POLL_INTERVAL_MS: '60000' });
  owner = await signUp(app);
});
afterAll(() => app?.close());

/** POSTs raw bytes to a webhook URL, as a sender would (no API key). */
async function deliver(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

async function runsOf(workflowId: string): Promise<string[]> {
  const res = await app.request('GET', `/api/runs?workflowId=${workflowId}&limit=200`, { headers: owner.headers });
  return res.body.data.map((r: { id: string }) => r.id);
}

const echoWorkflow = () =>
  createWorkflow(app, owner.headers, [add('start', 'trigger_manual'), add('echo', 'transform', { template: '{{trigger.body.order.id}}' }), connect('start', 'echo')]);

async function apiWebhook(workflowId: string, body: Record<string, unknown>) {
  const res = await app.request('POST', `/api/workflows/${workflowId}/webhooks`, { headers: owner.headers, body });
  expect(res.status).toBe(201);
  return res.body as { id: string; url: string; token: string; signingSecret?: string };
}

describe('an agent builds a webhook workflow with EditOps only', () => {
  it('finds its URL and a delivery starts a run whose trigger output is the request', async () => {
    const created = await app.request('POST', '/api/workflows', { headers: owner.headers, body: { name: 'orders' } });
    const workflowId = created.body.id as string;
    const patched = await app.request('POST', `/api/workflows/${workflowId}/operations`, {
      headers: owner.headers,
      body: { ops: [add('hook', 'trigger_webhook', { idempotencyKeyPath: 'order.id' }), add('echo', 'transform', { template: '{{trigger.body.order.id}} via {{trigger.method}}' }), connect('hook', 'echo')] },
    });
    expect(patched.body.validation_errors).toEqual([]);
    const listed = await app.request('GET', `/api/workflows/${workflowId}/webhooks`, { headers: owner.headers });
    expect(listed.body.data).toHaveLength(1);
    const hook = listed.body.data[0];
    expect(hook).toMatchObject({ source: 'workflow', blockId: 'hook', signing: 'none', idempotencyKeyPath: 'order.id', url: `${app.url}/hooks/${hook.token}` });
    expect(hook.signingSecret).toBeUndefined();

    const first = await deliver(`${hook.url}?source=shop`, '{"order":{"id":"A-1"}}', { authorization: 'Bearer secret', cookie: 'c=1', 'x-shop': 'north' });
    expect(first.status).toBe(202);
    const run = await waitForRun(app, owner.headers, first.body.runId);
    expect(run.status).toBe('completed');
    expect(run.outputs.echo).toEqual({ value: 'A-1 via POST' });
    expect(run.input).toMatchObject({ body: { order: { id: 'A-1' } }, query: { source: 'shop' }, method: 'POST', receivedAt: expect.any(String) });
    expect(run.input.headers['x-shop']).toBe('north');
    expect(run.input.headers.authorization).toBeUndefined();
    expect(run.input.headers.cookie).toBeUndefined();
    const events = await app.request('GET', `/api/runs/${run.id}/events`, { headers: owner.headers });
    expect(events.body.data[0].metadata.actor).toEqual({ type: 'webhook', id: hook.id });

    // The same order again (idempotencyKeyPath) is the same run.
    const again = await deliver(hook.url, '{"order":{"id":"A-1"},"retry":true}');
    expect(again).toMatchObject({ status: 200, body: { runId: run.id, duplicate: true } });
    expect(await runsOf(workflowId)).toEqual([run.id]);

    // Removing the block revokes its URL.
    await app.request('POST', `/api/workflows/${workflowId}/operations`, { headers: owner.headers, body: { ops: [{ operation_type: 'remove', block_id: 'hook' }] } });
    expect((await deliver(hook.url, '{"order":{"id":"A-2"}}')).status).toBe(404);
  });
});

describe('signed deliveries', () => {
  it('standard signing: the standardwebhooks reference signature passes; a bad, altered, re-serialised or stale one is 401 and starts nothing', async () => {
    const workflowId = await echoWorkflow();
    const hook = await apiWebhook(workflowId, { signed: true });
    expect(hook.signingSecret).toMatch(/^whsec_/);
    const listed = await app.request('GET', `/api/workflows/${workflowId}/webhooks`, { headers: owner.headers });
    expect(listed.body.data[0].signingSecret).toBeUndefined();
    const sender = new Webhook(hook.signingSecret!);
    const body = '{"order":{"id":"S-1"}}';
    const sign = (id: string, at: Date, payload = body) => ({ 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': sender.sign(id, at, payload) });

    const ok = await deliver(hook.url, body, sign('msg_1', new Date()));
    expect(ok.status).toBe(202);
    const twice = await deliver(hook.url, body, sign('msg_1', new Date()));
    expect(twice).toMatchObject({ status: 200, body: { runId: ok.body.runId, duplicate: true } });

    const other = new Webhook(`whsec_${Buffer.from('another secret of 24 byte').toString('base64')}`);
    const rotating = sign('msg_2', new Date());
    rotating['webhook-signature'] = `${other.sign('msg_2', new Date(), body)} ${rotating['webhook-signature']}`;
    expect((await deliver(hook.url, body, rotating)).status).toBe(202);

    const refused = [
      await deliver(hook.url, body),
      await deliver(hook.url, body.replace('S-1', 'S-2'), sign('msg_3', new Date())),
      await deliver(hook.url, '{ "order": { "id": "S-1" } }', sign('msg_4', new Date())),
      await deliver(hook.url, body, sign('msg_5', new Date(Date.now() - 301_000))),
      await deliver(hook.url, body, sign('msg_6', new Date(Date.now() + 301_000))),
      await deliver(hook.url, body, { 'webhook-id': 'msg_7', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': other.sign('msg_7', new Date(), body) }),
    ];
    expect(refused.map((r) => [r.status, r.body?.error])).toEqual(Array.from({ length: 6 }, () => [401, 'invalid_signature']));
    expect(await runsOf(workflowId)).toHaveLength(2);
  });

  it('GitHub and Stripe signatures pass; a rotated secret takes over while the previous one still verifies', async () => {
    const workflowId = await echoWorkflow();
    const body = '{"order":{"id":"G-1"}}';
    const github = await apiWebhook(workflowId, { signing: 'github' });
    const hub = (secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    expect((await deliver(github.url, body, { 'x-hub-signature-256': hub(github.signingSecret!) })).status).toBe(202);
    expect((await deliver(github.url, body, { 'x-hub-signature-256': hub('wrong') })).status).toBe(401);

    const stripe = await apiWebhook(workflowId, { signing: 'stripe' });
    const t = Math.floor(Date.now() / 1000);
    const stripeHeader = (secret: string) => `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
    expect((await deliver(stripe.url, body, { 'stripe-signature': stripeHeader(stripe.signingSecret!) })).status).toBe(202);

    const rotated = await app.request('POST', `/api/webhooks/${stripe.id}/rotate`, { headers: owner.headers });
    expect(rotated.status).toBe(200);
    expect(rotated.body.signingSecret).not.toBe(stripe.signingSecret);
    expect((await deliver(stripe.url, body, { 'stripe-signature': stripeHeader(rotated.body.signingSecret) })).status).toBe(202);
    expect((await deliver(stripe.url, body, { 'stripe-signature': stripeHeader(stripe.signingSecret!) })).status).toBe(202);
    expect((await deliver(stripe.url, body, { 'stripe-signature': stripeHeader('whsec_never') })).status).toBe(401);
  });
});

describe('deduplication, refusals and replay', () => {
  it('20 concurrent deliveries with one Idempotency-Key make one run and 19 duplicates', async () => {
    const workflowId = await echoWorkflow();
    const hook = await apiWebhook(workflowId, {});
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => deliver(hook.url, `{"order":{"id":"C-${i}"}}`, { 'idempotency-key': 'one-key' })));
    const created = answers.filter((a) => a.status === 202);
    const duplicates = answers.filter((a) => a.status === 200 && a.body.duplicate === true);
    expect(created).toHaveLength(1);
    expect(duplicates).toHaveLength(19);
    expect(new Set(answers.map((a) => a.body.runId))).toEqual(new Set([created[0]!.body.runId]));
    expect(await runsOf(workflowId)).toEqual([created[0]!.body.runId]);
  });

  it('tells long keys apart by all their characters, and takes a signed webhook-id of any length', async () => {
    const workflowId = await echoWorkflow();
    const hook = await apiWebhook(workflowId, { idempotencyKeyPath: 'order.ref' });
    const shared = `https://shop.example/orders/${'x'.repeat(250)}`;
    const byHeader = [await deliver(hook.url, '{}', { 'idempotency-key': `${shared}/1` }), await deliver(hook.url, '{}', { 'idempotency-key': `${shared}/2` })];
    const byPath = [await deliver(hook.url, JSON.stringify({ order: { ref: `${shared}/3` } })), await deliver(hook.url, JSON.stringify({ order: { ref: `${shared}/4` } }))];
    // Keys that differ only past their 200th character were one key: the second delivery a "duplicate".
    expect([...byHeader, ...byPath].map((a) => a.status)).toEqual([202, 202, 202, 202]);
    expect((await deliver(hook.url, '{}', { 'idempotency-key': `${shared}/1` })).body).toMatchObject({ runId: byHeader[0]!.body.runId, duplicate: true });

    const signed = await apiWebhook(workflowId, { signed: true });
    const sender = new Webhook(signed.signingSecret!);
    const id = `msg_${randomBytes(3_750).toString('base64url')}`; // signed, so only the secret's holder sends it; incompressible, past Postgres's btree row limit as a key
    const at = new Date();
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': sender.sign(id, at, '{}') };
    const first = await deliver(signed.url, '{}', headers);
    expect(first.status).toBe(202);
    expect((await deliver(signed.url, '{}', headers)).body).toMatchObject({ runId: first.body.runId, duplicate: true });
  });

  it('concurrent deliveries share transactions, each with its own run and delivery; one that cannot start is refused alone', async () => {
    const workflowId = await echoWorkflow();
    const hook = await apiWebhook(workflowId, {});
    const broken = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual')]);
    const brokenHook = await apiWebhook(broken, {});
    await app.request('POST', `/api/workflows/${broken}/operations`, { headers: owner.headers, body: { ops: [add('bad', 'http_request', {})] } });
    // Deliveries are concurrent for certain only while no group can commit: a session holds the
    // deliveries' table until all 33 have reached the recorder (on a loaded machine they otherwise
    // arrive one by one, each group taking one).
    const submitted = jest.spyOn(app.running.app.get(DeliveryRecorder), 'record');
    const holder = await app.db.pool.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE webhook_deliveries IN SHARE MODE');
    const stop = recordStatements();
    const delivered = Promise.all([
      Promise.all(Array.from({ length: 30 }, (_, i) => deliver(hook.url, `{"order":{"id":"G-${i}"}}`))),
      Promise.all(Array.from({ length: 3 }, () => deliver(brokenHook.url, '{}'))),
    ]);
    expect(await readUntil(async () => submitted.mock.calls.length, (calls) => calls === 33)).toBe(33);
    await holder.query('COMMIT');
    holder.release();
    submitted.mockRestore();
    const [answers, refused] = await delivered;
    const texts = stop();
    expect(answers.map((a) => a.status)).toEqual(Array(30).fill(202));
    expect(refused.map((a) => [a.status, a.body.error])).toEqual(Array(3).fill([422, 'workflow_not_runnable']));
    expect(new Set(answers.map((a) => a.body.runId)).size).toBe(30);
    expect(new Set(answers.map((a) => a.body.deliveryId)).size).toBe(30);
    // One transaction per delivery before: 33 delivery inserts (the refused ones roll back). Now
    // at most the three groups in flight when the table was held, and one group for the rest.
    expect(texts.filter((text) => /INSERT INTO webhook_deliveries/.test(text)).length).toBeLessThanOrEqual(4);
    expect((await runsOf(workflowId)).sort()).toEqual(answers.map((a) => a.body.runId as string).sort());
    expect(await runsOf(broken)).toEqual([]);
    const listed = await app.request('GET', `/api/webhooks/${hook.id}/deliveries?limit=100`, { headers: owner.headers });
    expect(listed.body.data.map((d: { runId: string }) => d.runId).sort()).toEqual(answers.map((a) => a.body.runId as string).sort());
    const run = await waitForRun(app, owner.headers, answers[17]!.body.runId);
    expect(run.outputs.echo).toEqual({ value: 'G-17' });
  });

  it("hands each delivery's run to this process's worker in the delivery's commit, and keeps no slot after twins and refusals", async () => {
    const workflowId = await echoWorkflow();
    const hook = await apiWebhook(workflowId, {});
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => deliver(hook.url, `{"order":{"id":"H-${i}"}}`)));
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(202));
    for (const a of answers) expect((await waitForRun(app, owner.headers, a.body.runId)).status).toBe('completed');
    const streams = answers.flatMap((a) => [`run-${a.body.runId}`, deliveryStream(a.body.deliveryId)]);
    const { rows } = await app.running.app.get(Pool).query<{ stream_id: string; type: string; tx: string }>(
      'SELECT stream_id, type, transaction_id::text AS tx FROM events WHERE stream_id = ANY($1)',
      [streams],
    );
    const txOf = (streamId: string, type: string) => rows.find((row) => row.stream_id === streamId && row.type === type)?.tx;
    for (const a of answers) {
      const delivered = txOf(deliveryStream(a.body.deliveryId), 'WebhookReceived');
      expect(delivered).toEqual(expect.any(String));
      expect(txOf(`run-${a.body.runId}`, 'RunStarted')).toBe(delivered);
      // The worker's first batch rode the delivery's commit: no NOTIFY, claim or re-read before the step.
      expect(txOf(`run-${a.body.runId}`, 'StepAttemptStarted')).toBe(delivered);
    }

    // Twins roll their groups back (then go one by one) and refusals start nothing: each gives back what it reserved.
    const broken = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual')]);
    const brokenHook = await apiWebhook(broken, {});
    await app.request('POST', `/api/workflows/${broken}/operations`, { headers: owner.headers, body: { ops: [add('bad', 'http_request', {})] } });
    const [twins] = await Promise.all([
      Promise.all(Array.from({ length: 20 }, (_, i) => deliver(hook.url, `{"order":{"id":"T-${i}"}}`, { 'idempotency-key': 'twin-key' }))),
      Promise.all(Array.from({ length: 3 }, () => deliver(brokenHook.url, '{}'))),
    ]);
    await waitForRun(app, owner.headers, twins[0]!.body.runId);
    let held = '';
    for (let i = 0; i < 200 && held !== '0'; i += 1) {
      const metrics = await app.request('GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      held = /^thodare_worker_runs_held (\d+)$/m.exec(metrics.text)?.[1] ?? '';
      if (held !== '0') await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(held).toBe('0');
  });

  it('reads a busy webhook once a second, not per delivery, yet a revocation on another instance refuses the next delivery at once', async () => {
    const workflowId = await echoWorkflow();
    const hook = await apiWebhook(workflowId, {});
    const signed = await apiWebhook(workflowId, { signing: 'standard' });
    const other = await startTestApp('webhooks', {}, { api: true, worker: false }, app.db);
    try {
      const path = (url: string) => url.slice(url.indexOf('/hooks/'));
      const began = performance.now();
      const stop = recordStatements();
      const answers = [];
      for (let i = 0; i < 20; i += 1) answers.push(await deliver(`${other.url}${path(hook.url)}`, `{"order":{"id":"R-${i}"}}`));
      const texts = stop();
      const seconds = Math.ceil((performance.now() - began) / 1000);
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(202));
      expect(texts.filter((text) => /FROM webhooks WHERE webhook_id = \$1/.test(text)).length).toBeLessThanOrEqual(seconds);

      // The other instance keeps the rows; this one revokes one and rotates the other's secret.
      const standard = (secret: string, body: string) => {
        const id = `msg_${Math.random().toString(36).slice(2)}`;
        const at = new Date();
        return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(id, at, body) };
      };
      expect((await deliver(`${other.url}${path(signed.url)}`, '{}', standard(signed.signingSecret!, '{}'))).status).toBe(202);
      expect((await app.request('DELETE', `/api/webhooks/${hook.id}`, { headers: owner.headers })).status).toBe(204);
      const rotated = await app.request('POST', `/api/webhooks/${signed.id}/rotate`, { headers: owner.headers });
      expect(rotated.status).toBe(200);
      expect((await deliver(`${other.url}${path(hook.url)}`, '{"order":{"id":"late"}}')).status).toBe(404);
      expect((await deliver(`${other.url}${path(signed.url)}`, '{}', standard(rotated.body.signingSecret, '{}'))).status).toBe(202);
      expect((await runsOf(workflowId)).length).toBe(22);
    } finally {
      await other.close();
    }
  });

  it('unknown or revoked token 404, body over the cap 413, workflow not runnable 422 — none creates a run', async () => {
    const workflowId = await echoWorkflow();
    const hook = await apiWebhook(workflowId, {});
    expect((await deliver(`${app.url}/hooks/${'A'.repeat(46)}`, '{}')).status).toBe(404);
    expect((await deliver(`${app.url}/hooks/not-a-token`, '{}')).status).toBe(404);
    const huge = await deliver(hook.url, JSON.stringify({ blob: 'x'.repeat(70 * 1024) }));
    expect([huge.status, huge.body?.error]).toEqual([413, 'payload_too_large']);

    const broken = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual')]);
    const brokenHook = await apiWebhook(broken, {});
    await app.request('POST', `/api/workflows/${broken}/operations`, { headers: owner.headers, body: { ops: [add('bad', 'http_request', {})] } });
    const refused = await deliver(brokenHook.url, '{}');
    expect([refused.status, refused.body.error]).toEqual([422, 'workflow_not_runnable']);
    expect(await runsOf(broken)).toEqual([]);

    expect((await app.request('DELETE', `/api/webhooks/${hook.id}`, { headers: owner.headers })).status).toBe(204);
    expect((await deliver(hook.url, '{}')).status).toBe(404);
    expect(await runsOf(workflowId)).toEqual([]);
  });

  it('lists deliveries with their raw body and replays one into a new run', async () => {
    const workflowId = await echoWorkflow();
    const hook = await apiWebhook(workflowId, {});
    const body = '{"order":{"id":"R-1"},  "note":"kept as sent"}';
    const first = await deliver(hook.url, body, { 'x-trace': 't1' });
    const list = await app.request('GET', `/api/webhooks/${hook.id}/deliveries`, { headers: owner.headers });
    expect(list.body.data).toHaveLength(1);
    const delivery = list.body.data[0];
    expect(delivery).toMatchObject({ runId: first.body.runId, body, bodyEncoding: 'utf8', method: 'POST' });
    expect(delivery.headers['x-trace']).toBe('t1');
    const replay = await app.request('POST', `/api/webhooks/${hook.id}/deliveries/${delivery.deliveryId}/replay`, { headers: owner.headers });
    expect(replay.status).toBe(202);
    expect(replay.body.runId).not.toBe(first.body.runId);
    const run = await waitForRun(app, owner.headers, replay.body.runId);
    expect(run.outputs.echo).toEqual({ value: 'R-1' });
    const after = await app.request('GET', `/api/webhooks/${hook.id}/deliveries`, { headers: owner.headers });
    expect(after.body.data[0]).toMatchObject({ replayOf: delivery.deliveryId, runId: replay.body.runId });
  });

  it("answers 404 for another organization's webhooks and deliveries", async () => {
    const workflowId = await echoWorkflow();
    const hook = await apiWebhook(workflowId, {});
    const first = await deliver(hook.url, '{}');
    const list = await app.request('GET', `/api/webhooks/${hook.id}/deliveries`, { headers: owner.headers });
    const deliveryId = list.body.data[0].deliveryId as string;
    const stranger = await signUp(app);
    const calls: [string, string, unknown?][] = [
      ['GET', `/api/workflows/${workflowId}/webhooks`],
      ['POST', `/api/workflows/${workflowId}/webhooks`, {}],
      ['DELETE', `/api/webhooks/${hook.id}`],
      ['POST', `/api/webhooks/${hook.id}/rotate`],
      ['GET', `/api/webhooks/${hook.id}/deliveries`],
      ['POST', `/api/webhooks/${hook.id}/deliveries/${deliveryId}/replay`],
    ];
    for (const [method, path, body] of calls) {
      const res = await app.request(method, path, { headers: stranger.headers, ...(body !== undefined ? { body } : {}) });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
    }
    expect(await runsOf(workflowId)).toEqual([first.body.runId]);
  });
});

describe('delivery rate limit', () => {
  it('refuses deliveries beyond the per-webhook budget with 429 and Retry-After, and counts each webhook apart', async () => {
    const limited = await startTestApp('webhooks_rate', { THODARE_WEBHOOK_RATE_LIMIT_PER_MIN: '3' });
    try {
      const user = await signUp(limited);
      const make = async () => {
        const wf = await limited.request('POST', '/api/workflows', { headers: user.headers, body: { name: 'rl' } });
        await limited.request('POST', `/api/workflows/${wf.body.id}/operations`, { headers: user.headers, body: { ops: [add('start', 'trigger_manual')] } });
        return (await limited.request('POST', `/api/workflows/${wf.body.id}/webhooks`, { headers: user.headers, body: {} })).body.url as string;
      };
      const [one, two] = [await make(), await make()];
      const statuses = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await deliver(one, '{}')).status);
      expect(statuses).toEqual([202, 202, 202, 429]);
      const refused = await deliver(one, '{}');
      expect(refused.body.error).toBe('rate_limited');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await deliver(two, '{}')).status).toBe(202);
    } finally {
      await limited.close();
    }
  });
});

describe('delivery rate limit on paths that are no token', () => {
  it("spends the sender's budget for a path with a NUL or a stray byte: 404, metered, no limiter failure", async () => {
    const limited = await startTestApp('webhooks_rate_junk', { THODARE_WEBHOOK_RATE_LIMIT_PER_MIN: '3' });
    try {
      const answers = [];
      for (const path of ['%00', 'a%00b', `${'A'.repeat(45)}%00`, 'not-a-token', '%E2%82%AC']) answers.push(await deliver(`${limited.url}/hooks/${path}`, '{}'));
      // Before: a NUL made the budget's key one Postgres refuses; the limiter failed open (no
      // headers, no 429) and logged an error for each such request.
      expect(answers.map((a) => [a.status, a.headers.get('x-ratelimit-limit')])).toEqual([
        [404, '3'],
        [404, '3'],
        [404, '3'],
        [429, '3'],
        [429, '3'],
      ]);
      expect(limited.logs.join('')).not.toContain('rate-limit storage failed');
    } finally {
      await limited.close();
    }
  });
});

describe('deliveries beyond the pool size', () => {
  it('24 concurrent deliveries through a pool of 3 connections are all accepted: a delivery holds one connection, never waits for a second', async () => {
    // API only: the worker would take connections of its own. Before the fix each delivery's
    // transaction held a connection while its run start read the workflow on another one, so
    // three deliveries took the whole pool and waited for a fourth connection until the timeout.
    const small = await startTestApp('webhooks_small_pool', { THODARE_POOL_SIZE: '3', THODARE_DB_CONNECT_TIMEOUT_MS: '3000' }, { api: true, worker: false });
    try {
      const user = await signUp(small);
      const workflowId = await createWorkflow(small, user.headers, [add('start', 'trigger_manual'), add('echo', 'transform', { template: 'x' }), connect('start', 'echo')]);
      const created = await small.request('POST', `/api/workflows/${workflowId}/webhooks`, { headers: user.headers, body: {} });
      const url = String(created.body.url);
      const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => deliver(url, JSON.stringify({ i }))));
      expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 24 }, () => 202));
      expect(new Set(answers.map((a) => a.body.runId)).size).toBe(24);
    } finally {
      await small.close();
    }
  });
});
