import { get, type ClientRequest } from 'node:http';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';

// A private cluster: `xact_commit` then counts this app's transactions only.
let pg: PrivatePostgres;
let app: TestApp;
let owner: SignedUp;
const streams: ClientRequest[] = [];

beforeAll(async () => {
  pg = await startPrivatePostgres('sse_idle');
  // Autovacuum's own transactions count in `xact_commit` too: they are not the app's.
  await pg.db.pool.query('ALTER SYSTEM SET autovacuum = off');
  await pg.db.pool.query('SELECT pg_reload_conf()');
  app = await startTestApp('sse_idle', { THODARE_POLL_INTERVAL_MS: '1000', THODARE_MAX_HELD_REQUESTS_PER_ORG: '2000' }, { api: true, worker: true }, pg.db);
  owner = await signUp(app);
}, 120_000);
afterAll(async () => {
  streams.forEach((request) => request.destroy());
  await app?.close();
  await pg?.destroy();
}, 60_000);

/** Opens an SSE stream; resolves once the run's events up to its wait have arrived. */
function openStream(runId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = get(`${app.url}/api/runs/${runId}/stream`, { headers: owner.headers, agent: false }, (response) => {
      if (response.statusCode !== 200) return reject(new Error(`stream answered ${response.statusCode}`));
      let text = '';
      response.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('event: RunWaitingForEvent')) resolve();
      });
    });
    request.on('error', reject);
    streams.push(request);
  });
}

async function transactionsCommitted(): Promise<number> {
  const { rows } = await pg.db.pool.query<{ n: string }>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()');
  return Number(rows[0]!.n);
}

/**
 * Transactions committed per second, in the median of `seconds` one-second windows: the app's
 * steady cost. A one-off burst of some periodic job (a sweep, a checkpoint) lands in one window
 * and does not decide the figure.
 */
async function transactionsPerSecond(seconds: number): Promise<number> {
  const rates: number[] = [];
  let before = await transactionsCommitted();
  let started = Date.now();
  for (let i = 0; i < seconds; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const after = await transactionsCommitted();
    rates.push((after - before) / ((Date.now() - started) / 1000));
    before = after;
    started = Date.now();
  }
  return rates.sort((a, b) => a - b)[Math.floor(rates.length / 2)]!;
}

it('1,000 idle SSE streams cost under 50 transactions a second', async () => {
  const id = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual'), add('hold', 'wait_for_event', { eventName: 'never' }), connect('start', 'hold')]);
  const runIds: string[] = [];
  for (let i = 0; i < 20; i++) {
    const run = await app.request('POST', `/api/workflows/${id}/runs`, { headers: owner.headers, body: {} });
    runIds.push(run.body.runId);
  }
  for (const runId of runIds) await waitForRun(app, owner.headers, runId, ['waiting']);

  await Promise.all(runIds.flatMap((runId) => Array.from({ length: 50 }, () => openStream(runId))));
  await new Promise((r) => setTimeout(r, 1500)); // let the opening burst settle

  const perSecond = await transactionsPerSecond(7);
  console.log(`with 1,000 open streams: ${perSecond.toFixed(1)} transactions/s`);
  expect(streams.every((request) => !request.destroyed)).toBe(true);
  expect(perSecond).toBeLessThan(50);
}, 120_000);
