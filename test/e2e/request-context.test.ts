import { AsyncLocalStorage } from 'node:async_hooks';
import { HttpAdapterHost } from '@nestjs/core';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow } from '../support/run-api';

// Nothing in the service keeps a context per request or per append in `AsyncLocalStorage`: once
// one is entered, Node hooks every promise of the process (the worker's hot path included), for
// 10-15 % of an HTTP run start's CPU. nestjs-pino entered one per request to give each log line
// its request; the run store entered one per multi-projection append to hand the folded state to
// `run_state`. The request line is still logged under its id, and a run's start line names the
// request that started it.

const entered: string[] = [];
let app: TestApp;
let owner: SignedUp;

beforeAll(async () => {
  for (const method of ['run', 'enterWith'] as const) {
    const original = AsyncLocalStorage.prototype[method] as (...args: unknown[]) => unknown;
    jest.spyOn(AsyncLocalStorage.prototype, method).mockImplementation(function (this: AsyncLocalStorage<unknown>, ...args: unknown[]) {
      const stack = new Error().stack ?? '';
      // jest-circus runs each test and hook in one of its own: only the service's count.
      if (!stack.includes('/jest-circus/')) entered.push(`${method} ${stack.split('\n').slice(2, 7).join(' | ')}`);
      return original.apply(this, args);
    } as never);
  }
  app = await startTestApp('request_context');
  owner = await signUp(app);
});
afterAll(async () => {
  jest.restoreAllMocks();
  await app?.close();
});

it('serves requests and runs, including an append through the event store, without entering an AsyncLocalStorage', async () => {
  // A wait's events have an inline projection besides run_state: that batch goes through the event store with its hint.
  const id = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual'), add('nap', 'wait_duration', { durationMs: 20 }), add('out', 'transform', { template: 'rested' }), connect('start', 'nap'), connect('nap', 'out')]);
  const started = await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: { ...owner.headers, 'x-request-id': 'start-req-42' }, body: {} });
  expect(started.body).toMatchObject({ status: 'completed', outputs: { out: { value: 'rested' } } });
  expect(entered).toEqual([]);

  const lines = app.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(lines.find((line) => line.msg === 'run started' && line.runId === started.body.id)).toMatchObject({ context: 'runs', requestId: 'start-req-42', workflowId: id });
  expect(lines.find((line) => (line.req as { id?: string } | undefined)?.id === 'start-req-42')).toMatchObject({ msg: 'request completed', res: { statusCode: 200 } });
});

it('logs one line per request, an unknown route and a refused one included, without a Nest middleware on the way', async () => {
  const missing = await app.request('GET', '/api/no-such-route', { headers: { 'x-request-id': 'missing-req-7' } });
  expect(missing.status).toBe(404);
  const refused = await app.request('GET', '/api/workflows', { headers: { 'x-request-id': 'refused-req-8' } });
  expect(refused.status).toBe(401);
  const lines = app.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
  const about = (id: string) => lines.filter((line) => (line.req as { id?: string } | undefined)?.id === id);
  expect(about('missing-req-7')).toEqual([expect.objectContaining({ msg: 'request completed', res: { statusCode: 404 }, req: { id: 'missing-req-7', method: 'GET', url: '/api/no-such-route' } })]);
  expect(about('refused-req-8')).toEqual([expect.objectContaining({ msg: 'request completed', res: { statusCode: 401 } })]);
  // A Nest middleware runs through @fastify/middie, which sanitises, normalises and matches every
  // request's URL first (~80 µs of a request): the app registers none.
  const fastify = app.running.app.get(HttpAdapterHost).httpAdapter.getInstance<Record<symbol, unknown>>();
  const middlewares = Object.getOwnPropertySymbols(fastify).find((symbol) => symbol.description === 'fastify-middie-middlewares');
  expect(middlewares === undefined ? [] : fastify[middlewares]).toEqual([]);
});
