import { z } from 'zod';
import { ConnectorError } from '../../src/domain/connectors/connector-error';
import { defineConnector } from '../../src/domain/connectors/define-connector';
import { RunFailureAnnouncer } from '../../src/worker/run-failure-announcer';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type AuthHeaders, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';

/**
 * Failure handlers: a run that fails is published as the organization event
 * `thodare.run.failed`, which starts the workflows whose `trigger_event` block names it — once per
 * failure, never for a handler's own failure, and only in organizations that have such a workflow.
 */
const fails = defineConnector({
  type: 'always_fails',
  name: 'Always fails',
  description: 'Fails at once, for good.',
  category: 'test',
  kind: 'action',
  retry: { maxAttempts: 1, initialIntervalMs: 0, backoffCoefficient: 1, maxIntervalMs: 0 },
  params: z.object({}),
  outputs: z.object({}),
  run: async () => {
    throw new ConnectorError('card_declined', 'the card was declined', { retryable: false });
  },
});

let app: TestApp;
let owner: SignedUp;
let other: SignedUp;

beforeAll(async () => {
  app = await startTestApp('run_failure_events', {}, undefined, undefined, [fails]);
  [owner, other] = [await signUp(app), await signUp(app)];
});
afterAll(() => app?.close());

const failing = (h: AuthHeaders) => createWorkflow(app, h, [add('start', 'trigger_manual'), add('charge', 'always_fails', {}), connect('start', 'charge')]);

async function failedRun(h: AuthHeaders, workflowId: string): Promise<string> {
  const started = await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: h, body: { input: {} } });
  expect(await waitForRun(app, h, started.body.runId)).toMatchObject({ status: 'failed' });
  return started.body.runId;
}

async function runsOf(h: AuthHeaders, workflowId: string): Promise<string[]> {
  return (await app.request('GET', `/api/runs?workflowId=${workflowId}`, { headers: h })).body.data.map((run: { id: string }) => run.id);
}

/** Polls until `workflowId` has `count` runs (the projection and the announcer work in the background). */
async function untilRuns(h: AuthHeaders, workflowId: string, count: number): Promise<string[]> {
  for (let tries = 0; ; tries++) {
    const runs = await runsOf(h, workflowId);
    if (runs.length >= count) return runs;
    if (tries > 300) throw new Error(`workflow ${workflowId} has ${runs.length} runs, not ${count}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls until the failure of `runId` was handled by an announcer (published, or passed over). */
async function untilAnnounced(runId: string): Promise<void> {
  for (let tries = 0; ; tries++) {
    const { rows } = await app.db.pool.query('SELECT announced_at FROM run_failures WHERE run_id = $1', [runId]);
    if (rows[0]?.announced_at) return;
    if (tries > 300) throw new Error(`the failure of run ${runId} was never announced`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const publications = async (organizationId: string) =>
  (await app.db.pool.query(`SELECT data FROM events WHERE organization_id = $1 AND type = 'OrgEventPublished' AND data->>'name' = 'thodare.run.failed'`, [organizationId])).rows.map((row) => row.data);

describe('thodare.run.failed', () => {
  it('starts the failure handler with the failed run, once, and never for a failing handler', async () => {
    const h = owner.headers;
    const checkout = await failing(h);
    const handler = await createWorkflow(app, h, [
      add('failed', 'trigger_event', { eventName: 'thodare.run.failed' }),
      add('alert', 'transform', { template: 'run {{trigger.payload.runId}} failed: {{trigger.payload.error.code}}' }),
      connect('failed', 'alert'),
    ]);
    const failedId = await failedRun(h, checkout);
    const [handled] = await untilRuns(h, handler, 1);
    expect(await waitForRun(app, h, handled!)).toMatchObject({
      status: 'completed',
      input: { name: 'thodare.run.failed', correlationKey: checkout, payload: { runId: failedId, workflowId: checkout, workflowVersion: 2, error: { code: 'card_declined', blockId: 'charge' } } },
      outputs: { alert: { value: `run ${failedId} failed: card_declined` } },
    });

    // A handler that fails itself: its failure is not announced (or it would start itself again).
    const brokenHandler = await createWorkflow(app, h, [add('failed', 'trigger_event', { eventName: 'thodare.run.failed' }), add('page', 'always_fails', {}), connect('failed', 'page')]);
    const second = await failedRun(h, checkout);
    const [broken] = await untilRuns(h, brokenHandler, 1);
    expect(await waitForRun(app, h, broken!)).toMatchObject({ status: 'failed' });
    await untilAnnounced(broken!);
    expect((await runsOf(h, handler)).length).toBe(2);
    expect((await runsOf(h, brokenHandler)).length).toBe(1);
    expect((await publications(owner.organizationId)).map((event) => event.payload.runId).sort()).toEqual([failedId, second].sort());

    // An announcer that crashed after publishing, before marking: the next look publishes nothing twice.
    await app.db.pool.query('UPDATE run_failures SET announced_at = NULL WHERE run_id = $1', [second]);
    await app.running.app.get(RunFailureAnnouncer).announce();
    await untilAnnounced(second);
    expect((await publications(owner.organizationId)).length).toBe(2);
    expect((await runsOf(h, handler)).length).toBe(2);

    // A run a person started, whose input merely looks like a system event's, is announced all the same.
    const lookalike = await app.request('POST', `/api/workflows/${checkout}/runs`, { headers: h, body: { input: { name: 'thodare.run.failed' } } });
    expect(await waitForRun(app, h, lookalike.body.runId)).toMatchObject({ status: 'failed' });
    await untilRuns(h, handler, 3);
  });

  it('publishes nothing for an organization without a handler, and refuses the reserved name to clients', async () => {
    const h = other.headers;
    const failedId = await failedRun(h, await failing(h));
    await untilAnnounced(failedId);
    expect(await publications(other.organizationId)).toEqual([]);

    const spoof = await app.request('POST', '/api/events', { headers: h, body: { name: 'thodare.run.failed', payload: { runId: 'made-up' } } });
    expect({ status: spoof.status, error: spoof.body.error }).toEqual({ status: 400, error: 'invalid_body' });
  });
});
