import { z } from 'zod';
import { ConnectorError } from '../../src/domain/connectors/connector-error';
import { defineConnector } from '../../src/domain/connectors/define-connector';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, waitForLogs, waitForRun } from '../support/run-api';

/** Always fails, retryably; three attempts by default, a block may ask for 1 to 5. */
const alwaysFails = defineConnector({
  type: 'policy_fail',
  name: 'Always fails',
  description: 'Fails every attempt (retryable).',
  category: 'test',
  kind: 'action',
  params: z.object({}),
  outputs: z.object({}),
  retry: { maxAttempts: 3, initialIntervalMs: 10, backoffCoefficient: 1, maxIntervalMs: 10 },
  timeoutMs: 5_000,
  overridable: { retry: { maxAttempts: { min: 1, max: 5 } }, timeoutMs: { min: 100, max: 10_000 } },
  run: async () => {
    throw new ConnectorError('still_broken', 'this step always fails', { retryable: true });
  },
});

/** Throws what cannot be read (its `message` getter throws too), or a 1 MB message. */
const throwsOddly = defineConnector({
  type: 'policy_odd_throw',
  name: 'Throws oddly',
  description: 'Throws a value that cannot be read, or a message of 1 MB.',
  category: 'test',
  kind: 'action',
  params: z.object({ huge: z.boolean() }),
  outputs: z.object({}),
  retry: { maxAttempts: 1, initialIntervalMs: 10, backoffCoefficient: 1, maxIntervalMs: 10 },
  run: async ({ huge }) => {
    if (huge) throw new ConnectorError('upstream_said_no', 'r'.repeat(2 ** 20), { retryable: false });
    throw {
      get message(): string {
        throw new Error('no message either');
      },
    };
  },
});

let app: TestApp;
let owner: SignedUp;

beforeAll(async () => {
  app = await startTestApp('connector_policies', {}, undefined, undefined, [alwaysFails, throwsOddly]);
  owner = await signUp(app);
});
afterAll(async () => {
  await app?.close();
});

const h = () => owner.headers;

/** The attempts a run of the workflow made of block `fail` (the run must fail on it). */
async function attemptsOf(ops: unknown[], expected: number): Promise<number[]> {
  const id = await createWorkflow(app, h(), [add('start', 'trigger_manual'), ...ops, connect('start', 'fail')]);
  const started = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: {} });
  expect(started.status).toBe(202);
  const run = await waitForRun(app, h(), started.body.runId);
  expect(run).toMatchObject({ status: 'failed', error: { code: 'still_broken', blockId: 'fail' } });
  await waitForLogs(app, h(), started.body.runId, expected);
  // The event stream is complete once the run failed (logs are a projection, possibly behind).
  const events = await app.request('GET', `/api/runs/${started.body.runId}/events?limit=100`, { headers: h() });
  return events.body.data
    .filter((event: { type: string; data: { blockId?: string } }) => event.type === 'StepAttemptStarted' && event.data.blockId === 'fail')
    .map((event: { data: { attempt: number } }) => event.data.attempt);
}

describe('connector policies', () => {
  it('shows retry, timeout and override bounds in the full catalog entry', async () => {
    const res = await app.request('GET', '/api/connectors/http_request', { headers: h() });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      retry: { maxAttempts: 3, initialIntervalMs: 1_000, nonRetryableErrors: expect.arrayContaining(['ssrf_blocked']) },
      timeoutMs: 300_000,
      overridable: { retry: { maxAttempts: { min: 1, max: 10 } }, timeoutMs: { min: 1_000, max: 900_000 } },
    });
    const full = await app.request('GET', '/api/connectors?detail=full', { headers: h() });
    const custom = full.body.data.find((entry: { type: string }) => entry.type === 'policy_fail');
    expect(custom).toMatchObject({ retry: { maxAttempts: 3 }, timeoutMs: 5_000, overridable: { retry: { maxAttempts: { min: 1, max: 5 } } } });
  });

  it('retries a failing step under the connector policy', async () => {
    expect(await attemptsOf([add('fail', 'policy_fail')], 3)).toEqual([1, 2, 3]);
  });

  it('fails after one attempt when the block sets retry.maxAttempts to 1', async () => {
    const op = { ...add('fail', 'policy_fail'), retry: { maxAttempts: 1 }, timeout_ms: 2_000 };
    expect(await attemptsOf([op], 1)).toEqual([1]);
  });

  it('fails the step of a connector that throws something unreadable; its run does not wait for good', async () => {
    const id = await createWorkflow(app, h(), [add('start', 'trigger_manual'), add('odd', 'policy_odd_throw', { huge: false }), connect('start', 'odd')]);
    const started = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: {} });
    expect(await waitForRun(app, h(), started.body.runId)).toMatchObject({ status: 'failed', error: { code: 'step_failed', blockId: 'odd' } });
  });

  it('records a step error cut to 8,192 characters, however long the connector made it', async () => {
    const id = await createWorkflow(app, h(), [add('start', 'trigger_manual'), add('odd', 'policy_odd_throw', { huge: true }), connect('start', 'odd')]);
    const started = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: {} });
    const run = await waitForRun(app, h(), started.body.runId);
    expect(run).toMatchObject({ status: 'failed', error: { code: 'upstream_said_no', blockId: 'odd' } });
    expect(run.error.message).toHaveLength(8_192);
    expect(run.error.message.endsWith('… (cut)')).toBe(true);
  });

  it('answers an override outside the bounds with a validation error, and refuses to run it', async () => {
    const id = await createWorkflow(app, h(), [add('start', 'trigger_manual')]);
    const ops = [{ ...add('fail', 'policy_fail'), retry: { maxAttempts: 9 } }, connect('start', 'fail')];
    const patched = await app.request('POST', `/api/workflows/${id}/operations`, { headers: h(), body: { ops } });
    expect(patched.body).toMatchObject({ ok: false, skipped_items: [] });
    expect(patched.body.validation_errors).toEqual([
      expect.objectContaining({ block_id: 'fail', field: 'retry.maxAttempts', code: 'retry_out_of_bounds', allowed: [1, 5] }),
    ]);
    expect(patched.body.workflow.blocks[1]).toMatchObject({ id: 'fail', retry: { maxAttempts: 9 } });
    const run = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: {} });
    expect(run.status).toBe(422);
  });
});
