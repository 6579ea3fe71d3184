import { randomBytes } from 'node:crypto';
import { request } from '../support/app';
import { startServers, type ServerProcess } from '../support/cli';
import { databaseUrl, dropSchema } from '../support/database';

/**
 * Issue 8, fault 7: `run_logs` is an async projection applied by the worker process only. A client
 * that sees a run end through an API-only process must still find every attempt in its logs.
 */

// With the logs' wait for the projection turned off (`?waitMs=0`), over half of these runs come
// back incomplete, the first ones included: 64 runs over 8 clients caught it in every trial.
const RUNS = 64;
const CLIENTS = 8;
const STEPS = 6;

const schema = `test_logs_${randomBytes(4).toString('hex')}`;
// The poll interval operators run with: lag must not depend on it being short.
const env = { DATABASE_URL: databaseUrl(), THODARE_SCHEMA: schema, PORT: '0', HOST: '127.0.0.1', THODARE_RATE_LIMIT_PER_MIN: '1000000' };
let api: ServerProcess | undefined;
let worker: ServerProcess | undefined;

afterAll(async () => {
  await worker?.stop('SIGTERM');
  await api?.stop('SIGTERM');
  await dropSchema(databaseUrl(), schema);
});

const chain = () => {
  const ops: unknown[] = [{ operation_type: 'add', block_id: 'start', type: 'trigger_manual' }];
  for (let i = 1; i <= STEPS; i++) {
    ops.push({ operation_type: 'add', block_id: `s${i}`, type: 'transform', params: { template: `{{trigger.n}}-${i}` } });
    ops.push({ operation_type: 'connect', block_id: i === 1 ? 'start' : `s${i - 1}`, target_block_id: `s${i}` });
  }
  return ops;
};

interface LogRow {
  blockId: string;
  attempt: number;
  status: string;
}

it('shows every attempt in the logs of a run the moment an API-only process reports it ended', async () => {
  [api, worker] = await startServers([['api'], env], [['worker'], env]);
  const base = api.url;
  const signUp = await request(base, 'POST', '/api/auth/sign-up', { body: { email: `logs-${schema}@example.test`, password: 'correct horse battery' } });
  const headers = { authorization: `Bearer ${signUp.body.token}` };
  const workflow = await request(base, 'POST', '/api/workflows', { body: { name: 'logs lag' }, headers });
  expect((await request(base, 'POST', `/api/workflows/${workflow.body.id}/operations`, { body: { ops: chain() }, headers })).body.ok).toBe(true);

  const incomplete: Array<{ runId: string; expected: string[]; logs: string[] }> = [];
  let next = 0;
  const client = async () => {
    for (let n = next++; n < RUNS; n = next++) {
      const run = await request(base, 'POST', `/api/workflows/${workflow.body.id}/runs?waitMs=30000`, { body: { input: { n } }, headers });
      expect(run.body.status).toBe('completed');
      const logs = await request(base, 'GET', `/api/runs/${run.body.id}/logs`, { headers });
      const events = await request(base, 'GET', `/api/runs/${run.body.id}/events`, { headers });
      const expected = (events.body.data as Array<{ type: string; data: { blockId: string; attempt: number } }>)
        .filter((e) => e.type === 'StepAttemptSucceeded')
        .map((e) => `${e.data.blockId}#${e.data.attempt}:succeeded`);
      const shown = (logs.body.data as LogRow[]).map((row) => `${row.blockId}#${row.attempt}:${row.status}`);
      if (expected.length < STEPS || JSON.stringify(shown) !== JSON.stringify(expected)) incomplete.push({ runId: run.body.id, expected, logs: shown });
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));

  expect(incomplete).toEqual([]);
}, 300_000);
