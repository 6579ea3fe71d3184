import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { request } from '../support/app';
import { startServer, startServers, type ServerProcess } from '../support/cli';
import { databaseUrl, dropSchema } from '../support/database';

// A worker started with THODARE_WORKER_PROJECTIONS=false runs runs and keeps no read model; the
// async read models (run logs, analytics, the audit trail's seals, event counts) are then kept by
// `thodare projector`, a process of their own with the worker's probes. Real processes on one schema.
const schema = `test_projector_${randomBytes(4).toString('hex')}`;
const env = { DATABASE_URL: databaseUrl(), THODARE_SCHEMA: schema, PORT: '0', HOST: '127.0.0.1', THODARE_POLL_INTERVAL_MS: '100', THODARE_LOG_LEVEL: 'info' };
const started: ServerProcess[] = [];
let api: ServerProcess;
let worker: ServerProcess;

beforeAll(async () => {
  [api, worker] = await startServers([['api'], env], [['worker'], { ...env, THODARE_WORKER_PROJECTIONS: 'false' }]);
  started.push(api, worker);
}, 90_000);
afterAll(async () => {
  for (const server of started) await server.stop('SIGTERM');
  await dropSchema(databaseUrl(), schema);
});

/** Where each async projection stands, by name. */
async function checkpoints(): Promise<Map<string, number>> {
  const client = new Client({ connectionString: databaseUrl(), options: `-c search_path=${schema}` });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; global_position: string }>('SELECT name, global_position FROM projection_checkpoints');
    return new Map(rows.map((r) => [r.name, Number(r.global_position)]));
  } finally {
    await client.end();
  }
}

it('runs runs in a worker that keeps no read model, and a projector process brings the read models up to them', async () => {
  expect(worker.output()).toContain('read models left to `thodare projector`');
  expect(worker.output()).not.toContain('projecting');

  const signedUp = await request(api.url, 'POST', '/api/auth/sign-up', { body: { email: `projector-${randomBytes(3).toString('hex')}@example.test`, password: 'projector-password-1' } });
  const headers = { authorization: `Bearer ${signedUp.body.token}` };
  const workflow = await request(api.url, 'POST', '/api/workflows', { headers, body: { name: 'two steps' } });
  const patched = await request(api.url, 'POST', `/api/workflows/${workflow.body.id}/operations`, {
    headers,
    body: {
      ops: [
        { operation_type: 'add', block_id: 'trigger', type: 'trigger_manual' },
        { operation_type: 'add', block_id: 'a', type: 'transform', params: { template: { n: 1 } } },
        { operation_type: 'add', block_id: 'b', type: 'transform', params: { template: { n: 2 } } },
        { operation_type: 'connect', block_id: 'trigger', target_block_id: 'a' },
        { operation_type: 'connect', block_id: 'a', target_block_id: 'b' },
      ],
    },
  });
  expect(patched.body.ok).toBe(true);
  const run = await request(api.url, 'POST', `/api/workflows/${workflow.body.id}/runs?waitMs=20000`, { headers, body: {} });
  expect(run.body.status).toBe('completed'); // the worker ran it

  // Nobody keeps the run log: the read waits its second and answers with nothing.
  const before = await request(api.url, 'GET', `/api/runs/${run.body.id}/logs?waitMs=1000`, { headers });
  expect(before.status).toBe(200);
  expect(before.body.data).toEqual([]);
  expect((await checkpoints()).get('run_logs') ?? 0).toBe(0);

  const projector = await startServer(['projector'], env);
  started.push(projector);
  await projector.outputMatching(/projecting .*run_logs/); // its log line, which may follow the start line
  const probes = /projector: running \(health, ready, metrics at (http:\/\/\S+)\)/.exec(projector.output())?.[1];
  expect((await request(probes!, 'GET', '/ready')).status).toBe(200);
  // What to watch on it: how far each read model is behind.
  expect((await request(probes!, 'GET', '/metrics')).text).toMatch(/^thodare_projection_lag_events\{projection="analytics"\} \d+$/m);

  // The read waits until the projector's run log covers the run (up to its default 5 s).
  const after = await request(api.url, 'GET', `/api/runs/${run.body.id}/logs`, { headers });
  expect(after.body.data.map((row: { blockId: string; status: string }) => [row.blockId, row.status])).toEqual([
    ['a', 'succeeded'],
    ['b', 'succeeded'],
  ]);
  // And the other read models, each in a transaction of its own.
  const caughtUp = (positions: Map<string, number>) => ['run_logs', 'analytics', 'audit_sealer', 'event_counts'].filter((name) => (positions.get(name) ?? 0) > 0);
  let positions = await checkpoints();
  for (let tries = 0; caughtUp(positions).length < 4 && tries < 200; tries += 1) {
    await new Promise((r) => setTimeout(r, 50));
    positions = await checkpoints();
  }
  expect(caughtUp(positions)).toEqual(['run_logs', 'analytics', 'audit_sealer', 'event_counts']);
});
