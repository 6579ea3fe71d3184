import { z } from 'zod';
import { defineConnector } from '../../src/domain/connectors/define-connector';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, patchWorkflow, waitForRun } from '../support/run-api';

/**
 * A workflow's run timeout (`set_metadata` `timeout_ms`): a run still going at its deadline fails
 * with `run_timed_out` — a step in flight is aborted, a long sleep is cut short (also when the
 * worker parked the run), and nothing after runs.
 */
const aborted: string[] = [];
const slow = defineConnector({
  type: 'slow_call',
  name: 'Slow call',
  description: 'Answers after 30 s unless aborted.',
  category: 'test',
  kind: 'action',
  retry: { maxAttempts: 1, initialIntervalMs: 0, backoffCoefficient: 1, maxIntervalMs: 0 },
  params: z.object({ label: z.string() }),
  outputs: z.object({}),
  run: ({ label }, ctx) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve({}), 30_000);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        aborted.push(label);
        reject(new Error('aborted'));
      });
    }),
});

let app: TestApp;
let owner: SignedUp;

beforeAll(async () => {
  app = await startTestApp('run_timeout', {}, undefined, undefined, [slow]);
  owner = await signUp(app);
});
afterAll(() => app?.close());

const timeout = (ms: number | null) => ({ operation_type: 'set_metadata', timeout_ms: ms });

describe("a workflow's run timeout", () => {
  it('fails a sleeping run at its deadline, even parked by the worker, and runs nothing after', async () => {
    const h = owner.headers;
    const id = await createWorkflow(app, h, [
      add('start', 'trigger_manual'),
      add('nap', 'wait_duration', { durationMs: 60_000 }),
      add('after', 'transform', { template: 'woke' }),
      connect('start', 'nap'),
      connect('nap', 'after'),
      // Past the worker's 2 s hold: the sleeping run is parked, due again at its deadline.
      timeout(3000),
    ]);
    expect((await app.request('GET', `/api/workflows/${id}`, { headers: h })).body.workflow.metadata).toMatchObject({ timeoutMs: 3000 });
    const started = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h, body: { input: {} } });
    const sleeping = await waitForRun(app, h, started.body.runId, ['sleeping']);
    expect(Date.parse(sleeping.deadline) - Date.parse(sleeping.startedAt)).toBe(3000);
    for (let tries = 0; ; tries++) {
      const { rows } = await app.db.pool.query('SELECT lease_owner, available_at FROM run_state WHERE run_id = $1', [started.body.runId]);
      if (rows[0].lease_owner === null) {
        expect(rows[0].available_at.toISOString()).toBe(sleeping.deadline);
        break;
      }
      if (tries > 100) throw new Error('the worker never parked the sleeping run');
      await new Promise((r) => setTimeout(r, 20));
    }

    const failed = await waitForRun(app, h, started.body.runId);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'run_timed_out' } });
    expect(failed.outputs).not.toHaveProperty('after');
    expect(Date.parse(failed.endedAt)).toBeGreaterThanOrEqual(Date.parse(failed.deadline));
  });

  it('aborts a step in flight at the deadline', async () => {
    const h = owner.headers;
    const id = await createWorkflow(app, h, [add('start', 'trigger_manual'), add('call', 'slow_call', { label: 'call-1' }), connect('start', 'call'), timeout(1000)]);
    const started = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h, body: { input: {} } });
    expect(await waitForRun(app, h, started.body.runId)).toMatchObject({ status: 'failed', error: { code: 'run_timed_out' } });
    for (let tries = 0; !aborted.includes('call-1') && tries < 200; tries++) await new Promise((r) => setTimeout(r, 25));
    expect(aborted).toContain('call-1');
  });

  it('is set, bounded and removed by set_metadata, applies to runs started after, and a revert restores it', async () => {
    const h = owner.headers;
    const id = await createWorkflow(app, h, [add('start', 'trigger_manual'), add('out', 'transform', { template: 'done' }), connect('start', 'out')]);
    const tooShort = await app.request('POST', `/api/workflows/${id}/operations`, { headers: h, body: { ops: [timeout(10)] } });
    expect(tooShort.body.skipped_items).toEqual([expect.objectContaining({ index: 0, reason_code: 'invalid_operation', reason: expect.stringContaining('timeout_ms') })]);
    await patchWorkflow(app, h, id, [timeout(60_000)]);
    const timed = await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: h, body: { input: {} } });
    expect(timed.body).toMatchObject({ status: 'completed', deadline: expect.any(String) });
    await patchWorkflow(app, h, id, [timeout(null)]);
    expect((await app.request('GET', `/api/workflows/${id}`, { headers: h })).body.workflow.metadata).toEqual({ name: expect.any(String), description: expect.any(String) });
    const untimed = await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: h, body: { input: {} } });
    expect(untimed.body).toMatchObject({ status: 'completed', deadline: null });

    const version = (await app.request('GET', `/api/workflows/${id}`, { headers: h })).body.version;
    const reverted = await app.request('POST', `/api/workflows/${id}/revert`, { headers: h, body: { version: version - 1 } });
    expect(reverted.body.workflow.metadata).toMatchObject({ timeoutMs: 60_000 });
  });
});
