import { randomBytes } from 'node:crypto';
import { request } from '../support/app';
import { runCli, startServer, type ServerProcess } from '../support/cli';
import { databaseUrl, dropSchema } from '../support/database';

const schema = `test_wprobe_${randomBytes(4).toString('hex')}`;
const TOKEN = 'worker-probe-token';
let worker: ServerProcess;
let probes: string;

beforeAll(async () => {
  const env = { DATABASE_URL: databaseUrl(), THODARE_SCHEMA: schema, HOST: '127.0.0.1', THODARE_WORKER_PORT: '0', THODARE_METRICS_TOKEN: TOKEN };
  worker = await startServer(['worker'], env);
  // The start-up line names the probe port (0 asked for any free one).
  const until = Date.now() + 5_000;
  while (!/worker: running \(health, ready, metrics at (http:\/\/\S+)\)/.test(worker.output()) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  probes = /worker: running \(health, ready, metrics at (http:\/\/\S+)\)/.exec(worker.output())?.[1] ?? '';
}, 60_000);
afterAll(async () => {
  if (worker) expect(await worker.stop('SIGTERM')).toBe(0);
  await dropSchema(databaseUrl(), schema);
});

describe('thodare worker probe port', () => {
  it('prints where its probes listen, on a port of its own', () => {
    expect(probes).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(probes).not.toMatch(/:3001$/);
  });

  it('answers /health and /ready like the API does', async () => {
    const health = await request(probes, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok' });
    const ready = await request(probes, 'GET', '/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', database: true, migrations: true });
    expect((await request(probes, 'GET', '/nope')).status).toBe(404);
  });

  it('serves the worker metrics behind the metrics token', async () => {
    expect((await request(probes, 'GET', '/metrics')).status).toBe(401);
    const metrics = await request(probes, 'GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.text).toContain('# TYPE thodare_worker_runs_held gauge\n');
    expect(metrics.text).toContain('# TYPE thodare_runnable_queue_depth gauge\n');
    expect(metrics.text).toContain('# TYPE thodare_step_attempts_total counter\n');
    expect(metrics.text).toMatch(/^thodare_projection_lag_events\{projection="run_logs"\} \d+$/m);
    expect(metrics.text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge\n');
    expect(metrics.text).not.toMatch(/^thodare_http_requests_total\{/m); // probe requests are not API traffic
  });

  it('keeps `thodare migrate` unaffected (no probe port outside the worker)', async () => {
    const migrated = await runCli(['migrate'], { DATABASE_URL: databaseUrl(), THODARE_SCHEMA: schema });
    expect(migrated.code).toBe(0);
  });
});
