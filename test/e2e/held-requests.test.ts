import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { get, type ClientRequest, type IncomingMessage } from 'node:http';
import { HeldRequests } from '../../src/http/held-requests';
import { RunWaiter } from '../../src/runs/run-waiter';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';

// Run streams, NDJSON and bundle exports of the audit trail, and `?waitMs=` waits hold their connection open. Without a bound,
// one organization could open streams until the process ran out of sockets (an SSE stream lasts
// as long as its run: days) and every other organization's requests went unanswered. Here an
// organization may hold 3 and the instance 5.
let app: TestApp;
let a: SignedUp;
let b: SignedUp;
let c: SignedUp;
const open: ClientRequest[] = [];

beforeAll(async () => {
  app = await startTestApp('held_requests', { THODARE_MAX_HELD_REQUESTS_PER_ORG: '3', THODARE_MAX_HELD_REQUESTS: '5' });
  [a, b, c] = [await signUp(app), await signUp(app), await signUp(app)];
});
afterAll(async () => {
  open.forEach((request) => request.destroy());
  await app?.close();
});

interface Opened {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
  request: ClientRequest;
}

/** GETs `path` and resolves at the answer's headers (a 200 stream stays open) or, for any other status, its whole body. */
function openHeld(path: string, headers: Record<string, string>): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const request = get(`${app.url}${path}`, { headers, agent: false }, (response) => {
      if (response.statusCode === 200) return resolve({ status: 200, headers: response.headers, body: '', request });
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body, request }));
    });
    request.on('error', reject);
    open.push(request);
  });
}

async function waitingRun(owner: SignedUp): Promise<{ workflowId: string; runId: string }> {
  const workflowId = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual'), add('hold', 'wait_for_event', { eventName: 'never' }), connect('start', 'hold')]);
  const run = await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: owner.headers, body: {} });
  await waitForRun(app, owner.headers, run.body.runId, ['waiting']);
  return { workflowId, runId: run.body.runId };
}

const held = (organizationId?: string) => app.running.app.get(HeldRequests).count(organizationId);

async function eventually(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let tries = 0; !(await check()); tries += 1) {
    if (tries > 400) throw new Error('never happened');
    await new Promise((r) => setTimeout(r, 25));
  }
}

it('bounds the streams and waits an organization holds, and those of the instance; skipped waits answer at once', async () => {
  const runA = await waitingRun(a);
  const runB = await waitingRun(b);
  const runC = await waitingRun(c);
  const stream = (owner: SignedUp, runId: string) => openHeld(`/api/runs/${runId}/stream`, owner.headers);

  const streamsOfA = [await stream(a, runA.runId), await stream(a, runA.runId), await stream(a, runA.runId)];
  expect(streamsOfA.map((s) => s.status)).toEqual([200, 200, 200]);
  const fourth = await stream(a, runA.runId);
  expect(fourth.status).toBe(429);
  expect(JSON.parse(fourth.body)).toMatchObject({ error: 'too_many_streams', retryAfterMs: 5000 });
  expect(fourth.headers['retry-after']).toBe('5');
  // The NDJSON export is a held request too.
  const exported = await openHeld('/api/audit/events', { ...a.headers, accept: 'application/x-ndjson' });
  expect(exported.status).toBe(429);
  expect(JSON.parse(exported.body).error).toBe('too_many_streams');
  // So is the audit bundle.
  const bundle = await openHeld('/api/audit/export', a.headers);
  expect(bundle.status).toBe(429);
  expect(JSON.parse(bundle.body).error).toBe('too_many_streams');

  // A wait of A is skipped: answered at once, and says so.
  const started = await app.request('POST', `/api/workflows/${runA.workflowId}/runs?waitMs=2000`, { headers: a.headers, body: {} });
  expect(started.status).toBe(202);
  expect(started.headers.get('x-thodare-wait')).toBe('skipped');
  const read = await app.request('GET', `/api/runs/${runA.runId}?waitMs=2000`, { headers: a.headers });
  expect(read.status).toBe(200);
  expect(read.body.status).toBe('waiting');
  expect(read.headers.get('x-thodare-wait')).toBe('skipped');

  // Another organization is not held back by A's streams...
  const quick = await createWorkflow(app, b.headers, [add('start', 'trigger_manual'), add('echo', 'transform', { template: 'x' }), connect('start', 'echo')]);
  const waited = await app.request('POST', `/api/workflows/${quick}/runs?waitMs=10000`, { headers: b.headers, body: {} });
  expect(waited.status).toBe(200);
  expect(waited.body.status).toBe('completed');
  expect(waited.headers.get('x-thodare-wait')).toBeNull();
  expect((await stream(b, runB.runId)).status).toBe(200);
  expect((await stream(b, runB.runId)).status).toBe(200);
  // ...until the instance holds its five.
  expect(held()).toBe(5);
  const third = await stream(c, runC.runId);
  expect(third.status).toBe(429);
  expect(JSON.parse(third.body).error).toBe('too_many_streams');

  // A stream the client closes gives its hold back.
  streamsOfA[0]!.request.destroy();
  await eventually(() => held(a.organizationId) === 2);
  expect((await stream(c, runC.runId)).status).toBe(200);

  // So does a stream that ends with its run: A's and C's runs are cancelled, their streams end.
  for (const [owner, runId] of [[a, runA.runId], [c, runC.runId]] as const) {
    expect((await app.request('POST', `/api/runs/${runId}/cancel`, { headers: owner.headers, body: {} })).status).toBe(202);
  }
  await eventually(() => held(a.organizationId) === 0 && held(c.organizationId) === 0);
  expect(held()).toBe(2);
});

it("an MCP run_wait whose reads are skipped pauses between them instead of asking again at once", async () => {
  open.forEach((request) => request.destroy());
  await eventually(() => held() === 0);
  const d = await signUp(app);
  const run = await waitingRun(d);
  for (let i = 0; i < 3; i += 1) expect((await openHeld(`/api/runs/${run.runId}/stream`, d.headers)).status).toBe(200);

  const waiter = app.running.app.get(RunWaiter);
  const endedRun = waiter.endedRun.bind(waiter);
  let reads = 0;
  waiter.endedRun = (...args: Parameters<RunWaiter['endedRun']>) => {
    reads += 1;
    return endedRun(...args);
  };
  const client = new Client({ name: 'held-requests', version: '1.0.0' });
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(`${app.url}/mcp`), { requestInit: { headers: d.headers } }));
    const result = (await client.callTool({ name: 'run_wait', arguments: { id: run.runId, timeout_seconds: 2 } })) as CallToolResult;
    expect(result.isError).not.toBe(true);
    expect(result.structuredContent).toMatchObject({ status: 'waiting', timed_out: true });
    // About one read a second (a tight loop made hundreds in the two seconds).
    expect(reads).toBeGreaterThanOrEqual(1);
    expect(reads).toBeLessThanOrEqual(4);
  } finally {
    waiter.endedRun = endedRun;
    await client.close();
  }
});
