import { connect, type Socket } from 'node:net';
import { get, type ClientRequest } from 'node:http';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect as link, createWorkflow, waitForRun } from '../support/run-api';

let app: TestApp;
let owner: SignedUp;
const sockets: Socket[] = [];
const requests: ClientRequest[] = [];

beforeAll(async () => {
  app = await startTestApp('http_timeouts', { THODARE_HTTP_HEADERS_TIMEOUT_MS: '1000', THODARE_HTTP_REQUEST_TIMEOUT_MS: '2000' });
  owner = await signUp(app);
});
afterAll(async () => {
  sockets.forEach((socket) => socket.destroy());
  requests.forEach((request) => request.destroy());
  await app?.close();
});

const closed = (socket: Socket) => new Promise<void>((resolve) => socket.once('close', () => resolve()));

it('closes a connection that sends its headers one byte a second', async () => {
  const { port } = new URL(app.url);
  const socket = connect(Number(port), '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  const header = 'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  let sent = 0;
  const drip = setInterval(() => {
    if (!socket.destroyed) socket.write(header[sent++ % header.length]!);
  }, 1000);
  try {
    await closed(socket); // within ~2 s; the test timeout is the bound
  } finally {
    clearInterval(drip);
  }
  expect(sent).toBeLessThan(header.length);
}, 30_000);

it('keeps an SSE stream open well past the request timeout', async () => {
  const id = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual'), add('hold', 'wait_for_event', { eventName: 'never' }), link('start', 'hold')]);
  const run = await app.request('POST', `/api/workflows/${id}/runs`, { headers: owner.headers, body: {} });
  await waitForRun(app, owner.headers, run.body.runId, ['waiting']);
  let text = '';
  let ended = false;
  await new Promise<void>((resolve, reject) => {
    const request = get(`${app.url}/api/runs/${run.body.runId}/stream`, { headers: owner.headers, agent: false }, (response) => {
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('close', () => (ended = true));
      resolve();
    });
    request.on('error', reject);
    requests.push(request);
  });
  await new Promise((r) => setTimeout(r, 5000)); // 2.5× the request timeout
  expect(ended).toBe(false);
  expect(text).toContain('event: RunWaitingForEvent');

  // …and still delivers: a cancel ends the run, and the stream with it.
  const cancelled = await app.request('POST', `/api/runs/${run.body.runId}/cancel`, { headers: owner.headers, body: {} });
  expect(cancelled.status).toBe(202);
  const until = Date.now() + 10_000;
  while (!ended && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  expect(text).toContain('event: RunCancelled');
}, 30_000);
