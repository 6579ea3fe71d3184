import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';

const TOKEN = 'metrics-test-token';
let app: TestApp;
let owner: SignedUp;

beforeAll(async () => {
  app = await startTestApp('metrics', { THODARE_METRICS_TOKEN: TOKEN });
  owner = await signUp(app);
});
afterAll(async () => {
  await app?.close();
});

const scrape = () => app.request('GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });

describe('GET /metrics', () => {
  it('wants the metrics token when one is configured', async () => {
    expect((await app.request('GET', '/metrics')).status).toBe(401);
    expect((await app.request('GET', '/metrics', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await scrape();
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('text/plain');
  });

  it('exposes HTTP, run, step, queue, projection, pool and process metrics after a run, without run or organization ids', async () => {
    const id = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual'), add('echo', 'transform', { template: 'hi' }), connect('start', 'echo')]);
    const run = await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: owner.headers, body: { input: {} } });
    expect(run.body.status).toBe('completed');
    await app.request('GET', `/api/runs/${run.body.id as string}`, { headers: owner.headers });

    const text = (await scrape()).text;

    for (const [name, type] of [
      ['thodare_http_requests_total', 'counter'],
      ['thodare_http_request_duration_seconds', 'histogram'],
      ['thodare_runs_started_total', 'counter'],
      ['thodare_runs_ended_total', 'counter'],
      ['thodare_step_attempts_total', 'counter'],
      ['thodare_step_attempt_duration_seconds', 'histogram'],
      ['thodare_lease_takeovers_total', 'counter'],
      ['thodare_append_conflicts_total', 'counter'],
      ['thodare_worker_runs_held', 'gauge'],
      ['thodare_runnable_queue_depth', 'gauge'],
      ['thodare_projection_lag_events', 'gauge'],
      ['thodare_audit_sealing_lag_seconds', 'gauge'],
      ['thodare_db_pool_connections_in_use', 'gauge'],
      ['thodare_db_pool_connections_waiting', 'gauge'],
      ['nodejs_eventloop_lag_seconds', 'gauge'],
      ['process_cpu_user_seconds_total', 'counter'],
    ]) {
      expect(text).toContain(`# TYPE ${name} ${type}\n`);
    }
    expect(text).toMatch(/^thodare_http_requests_total\{method="GET",route="\/api\/runs\/:id",status="200"\} 1$/m);
    expect(text).toMatch(/^thodare_http_request_duration_seconds_bucket\{le="\+Inf",method="POST",route="\/api\/workflows\/:id\/runs"\} 1$/m);
    expect(text).toMatch(/^thodare_runs_started_total 1$/m);
    expect(text).toMatch(/^thodare_runs_ended_total\{status="completed"\} 1$/m);
    expect(text).toMatch(/^thodare_step_attempts_total\{connector="transform",outcome="succeeded"\} 1$/m);
    expect(text).toMatch(/^thodare_step_attempt_duration_seconds_count\{connector="transform"\} 1$/m);
    expect(text).toMatch(/^thodare_runnable_queue_depth 0$/m);
    expect(text).toMatch(/^thodare_projection_lag_events\{projection="run_logs"\} \d+$/m);
    expect(text).toMatch(/^thodare_audit_sealing_lag_seconds [\d.e+-]+$/m);
    expect(text).toMatch(/^thodare_db_pool_connections_in_use \d+$/m);

    for (const secret of [run.body.id as string, id, owner.organizationId, owner.userId]) expect(text).not.toContain(secret);
  });

  it("shows the runs waiting for a place in a concurrency line, how long the oldest has waited, and each admission's outcome", async () => {
    const before = (await scrape()).text;
    expect(before).toMatch(/^thodare_concurrency_queued_runs 0$/m);
    expect(before).toMatch(/^thodare_concurrency_oldest_queued_seconds 0$/m);
    // One place: the first run holds it while it waits for an event; the second waits for it.
    const id = await createWorkflow(app, owner.headers, [
      add('start', 'trigger_manual'),
      add('hold', 'wait_for_event', { eventName: 'never' }),
      connect('start', 'hold'),
      { operation_type: 'set_metadata', concurrency: { limit: 1 } },
    ]);
    const start = async () => (await app.request('POST', `/api/workflows/${id}/runs`, { headers: owner.headers, body: { input: {} } })).body.runId as string;
    const first = await start();
    await waitForRun(app, owner.headers, first, ['waiting']);
    const second = await start();
    // The gauge reads the line's rows, which commit before the worker hears its outcome and counts
    // it: wait for both (CI once scraped between the two).
    const settled = (body: string) => /^thodare_concurrency_queued_runs 1$/m.test(body) && /^thodare_concurrency_admissions_total\{outcome="queued"\} 1$/m.test(body);
    const until = Date.now() + 20_000;
    let text = (await scrape()).text;
    while (!settled(text) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 25));
      text = (await scrape()).text;
    }
    expect(text).toContain('# TYPE thodare_concurrency_queued_runs gauge\n');
    expect(text).toMatch(/^thodare_concurrency_queued_runs 1$/m);
    expect(Number(/^thodare_concurrency_oldest_queued_seconds ([\d.e+-]+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/^thodare_concurrency_admissions_total\{outcome="admitted"\} 1$/m);
    expect(text).toMatch(/^thodare_concurrency_admissions_total\{outcome="queued"\} 1$/m);
    for (const runId of [second, first]) await app.request('POST', `/api/runs/${runId}/cancel`, { headers: owner.headers, body: {} });
    for (const runId of [second, first]) await waitForRun(app, owner.headers, runId, ['cancelled']);
    expect((await scrape()).text).toMatch(/^thodare_concurrency_queued_runs 0$/m);
  });

  it('counts an unmatched URL under one label, not its raw path', async () => {
    await app.request('GET', '/no/such/page-12345');
    const text = (await scrape()).text;
    expect(text).not.toContain('page-12345');
    expect(text).toMatch(/^thodare_http_requests_total\{method="GET",route="unmatched",status="404"\} \d+$/m);
  });
});
