import { z } from 'zod';
import { ConnectorError } from '../../src/domain/connectors/connector-error';
import { defineConnector } from '../../src/domain/connectors/define-connector';
import { startTestApp, type TestApp } from '../support/app';
import { addMember, signUp, type AuthHeaders, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, patchWorkflow, waitForLogs, waitForRun } from '../support/run-api';
import { recordQueries } from '../support/statements';

/** Calls per label, in this process (the test app runs here). */
const calls = new Map<string, number>();
/** Labels whose `rerun_flaky` steps fail until the test repairs them. */
const broken = new Set<string>();
const once = { maxAttempts: 1, initialIntervalMs: 0, backoffCoefficient: 1, maxIntervalMs: 0 };

const count = defineConnector({
  type: 'rerun_count',
  name: 'Count',
  description: 'Counts its calls per label.',
  category: 'test',
  kind: 'action',
  retry: once,
  params: z.object({ label: z.string() }),
  outputs: z.object({ calls: z.number() }),
  run: async ({ label }) => {
    calls.set(label, (calls.get(label) ?? 0) + 1);
    return { calls: calls.get(label)! };
  },
});

const flaky = defineConnector({
  type: 'rerun_flaky',
  name: 'Flaky',
  description: 'Fails while its label is broken.',
  category: 'test',
  kind: 'action',
  retry: once,
  params: z.object({ label: z.string() }),
  outputs: z.object({ repaired: z.boolean() }),
  run: async ({ label }) => {
    if (broken.has(label)) throw new ConnectorError('upstream_down', `${label} is down`, { retryable: false });
    return { repaired: true };
  },
});

/** Returns `kb` KiB of text: outputs near the per-step bound (256 KiB). */
const big = defineConnector({
  type: 'rerun_big',
  name: 'Big',
  description: 'Returns a large output.',
  category: 'test',
  kind: 'action',
  retry: once,
  params: z.object({ kb: z.number() }),
  outputs: z.object({ blob: z.string() }),
  run: async ({ kb }) => ({ blob: 'x'.repeat(kb * 1024) }),
});

let app: TestApp;
let owner: SignedUp;
let other: SignedUp;

beforeAll(async () => {
  app = await startTestApp('run_rerun', {}, undefined, undefined, [count, flaky, big]);
  [owner, other] = [await signUp(app), await signUp(app)];
});
afterAll(() => app?.close());

/** start → first (counted) → flaky → last (counted); `label` names this workflow's counters. */
async function threeSteps(headers: AuthHeaders, label: string): Promise<string> {
  return createWorkflow(app, headers, [
    add('start', 'trigger_manual'),
    add('first', 'rerun_count', { label: `${label}:first` }),
    add('flaky', 'rerun_flaky', { label }),
    add('last', 'rerun_count', { label: `${label}:last` }),
    connect('start', 'first'),
    connect('first', 'flaky'),
    connect('flaky', 'last'),
  ]);
}

async function startRun(headers: AuthHeaders, workflowId: string, input: unknown): Promise<string> {
  const res = await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers, body: { input } });
  expect(res.status).toBe(202);
  return res.body.runId as string;
}

/** The run's analytics row once its end is projected. */
async function analyticsRun(runId: string): Promise<Record<string, unknown>> {
  for (let tries = 0; ; tries++) {
    const { rows } = await app.db.pool.query(`SELECT rerun_of, status, step_attempts FROM analytics_runs WHERE run_id = $1 AND status <> 'active'`, [runId]);
    if (rows[0]) return rows[0];
    if (tries > 200) throw new Error(`the analytics projection did not record the end of run ${runId}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function runIdsOf(headers: AuthHeaders, workflowId: string): Promise<string[]> {
  const res = await app.request('GET', `/api/runs?workflowId=${workflowId}`, { headers });
  return res.body.data.map((run: { id: string }) => run.id);
}

describe('rerunning an ended run', () => {
  it('from the failure: the steps that succeeded keep their outputs and do not run again', async () => {
    const h = owner.headers;
    const workflowId = await threeSteps(h, 'a');
    broken.add('a');
    const failedId = await startRun(h, workflowId, { order: 7 });
    const failed = await waitForRun(app, h, failedId);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'upstream_down', blockId: 'flaky' }, rerunOf: null });
    expect(calls.get('a:first')).toBe(1);

    broken.delete('a');
    const rerun = await app.request('POST', `/api/runs/${failedId}/rerun`, { headers: h });
    expect(rerun.status).toBe(202);
    expect(rerun.body).toMatchObject({ rerunOf: failedId, reusedBlocks: ['first'], workflowVersion: failed.workflowVersion });
    const rerunId = rerun.body.runId as string;
    expect(rerunId).not.toBe(failedId);

    const done = await waitForRun(app, h, rerunId);
    expect(done).toMatchObject({ status: 'completed', rerunOf: failedId, input: { order: 7 } });
    expect(done.outputs).toMatchObject({ first: { calls: 1 }, flaky: { repaired: true }, last: { calls: 1 } });
    expect(calls.get('a:first')).toBe(1); // never ran again

    const events = await app.request('GET', `/api/runs/${rerunId}/events`, { headers: h });
    const types = events.body.data.map((e: { type: string; data: { blockId?: string } }) => (e.data.blockId ? `${e.type}:${e.data.blockId}` : e.type));
    expect(types).toContain('StepReused:first');
    expect(types).not.toContain('StepAttemptStarted:first');
    expect(events.body.data.find((e: { type: string }) => e.type === 'StepReused').data).toMatchObject({ blockId: 'first', fromRunId: failedId, output: { calls: 1 } });

    const logs = await waitForLogs(app, h, rerunId, 3);
    expect(logs.find((row: { blockId: string }) => row.blockId === 'first')).toMatchObject({ attempt: 0, status: 'succeeded', input: { reusedFrom: failedId }, output: { calls: 1 } });

    // The run rerun is left as it was.
    expect(await waitForRun(app, h, failedId)).toMatchObject({ status: 'failed', rerunOf: null });

    // Analysts see which run a rerun reruns (analytics_v1.runs.rerun_of; the projection is async).
    expect(await analyticsRun(rerunId)).toEqual({ rerun_of: failedId, status: 'completed', step_attempts: 2 });
    expect(await analyticsRun(failedId)).toEqual({ rerun_of: null, status: 'failed', step_attempts: 2 });
  });

  it('of a run this instance read, reads its start alone and the events since: the run is not folded whole again', async () => {
    const h = owner.headers;
    const workflowId = await threeSteps(h, 'kept');
    broken.add('kept');
    const failedId = await startRun(h, workflowId, { order: 9 });
    const failed = await waitForRun(app, h, failedId); // read: this instance keeps its state
    expect(failed.status).toBe('failed');
    broken.delete('kept');

    const stop = recordQueries();
    const rerun = await app.request('POST', `/api/runs/${failedId}/rerun`, { headers: h }).finally(stop);
    expect(rerun.status).toBe(202);
    expect(rerun.body).toMatchObject({ rerunOf: failedId, reusedBlocks: ['first'] });
    // The reads of the failed run's stream: [from version, limit]. Its start alone, and what came
    // after the version kept; never the whole stream from its first event.
    const reads = stop()
      .filter((q) => q.values[0] === `run-${failedId}` && /FROM events\s+WHERE stream_id = \$1/.test(q.text))
      .map((q) => [q.values[1], q.values[3]]);
    expect(reads).toContainEqual([1, 1]);
    expect(reads.filter(([from, limit]) => from === 1 && limit !== 1)).toEqual([]);

    const done = await waitForRun(app, h, rerun.body.runId as string);
    expect(done).toMatchObject({ status: 'completed', rerunOf: failedId, input: { order: 9 }, outputs: { first: { calls: 1 }, flaky: { repaired: true }, last: { calls: 1 } } });
  });

  it("on the workflow's current version: after a repair, what is unchanged keeps its output and the repaired step runs", async () => {
    const h = owner.headers;
    const workflowId = await threeSteps(h, 'r');
    broken.add('r-bad');
    await patchWorkflow(app, h, workflowId, [{ operation_type: 'update', block_id: 'flaky', params: { label: 'r-bad' } }]);
    const failedId = await startRun(h, workflowId, {});
    expect(await waitForRun(app, h, failedId)).toMatchObject({ status: 'failed', workflowVersion: 3 });

    // The agent repairs the workflow; a rerun of the version the run pinned fails again.
    await patchWorkflow(app, h, workflowId, [{ operation_type: 'update', block_id: 'flaky', params: { label: 'r-good' } }]);
    const pinned = await app.request('POST', `/api/runs/${failedId}/rerun`, { headers: h, body: {} });
    expect(await waitForRun(app, h, pinned.body.runId)).toMatchObject({ status: 'failed', workflowVersion: 3, error: { blockId: 'flaky' } });

    const current = await app.request('POST', `/api/runs/${failedId}/rerun`, { headers: h, body: { workflowVersion: 'current' } });
    expect(current.status).toBe(202);
    expect(current.body).toMatchObject({ workflowVersion: 4, rerunOf: failedId, reusedBlocks: ['first'] });
    const done = await waitForRun(app, h, current.body.runId);
    expect(done).toMatchObject({ status: 'completed', workflowVersion: 4, outputs: { first: { calls: 1 }, flaky: { repaired: true } } });
    expect(calls.get('r:first')).toBe(1);

    // A change to the first step: nothing is reused.
    await patchWorkflow(app, h, workflowId, [{ operation_type: 'update', block_id: 'first', params: { label: 'r:first-v2' } }]);
    const changed = await app.request('POST', `/api/runs/${failedId}/rerun`, { headers: h, body: { workflowVersion: 'current' } });
    expect(changed.body).toMatchObject({ workflowVersion: 5, reusedBlocks: [] });
    expect(await waitForRun(app, h, changed.body.runId)).toMatchObject({ status: 'completed', outputs: { first: { calls: 1 } } });
    expect(calls.get('r:first-v2')).toBe(1);

    // A current version that cannot run is refused as a start would be, with nothing created.
    await patchWorkflow(app, h, workflowId, [{ operation_type: 'update', block_id: 'flaky', params: { label: null } }]);
    const refused = await app.request('POST', `/api/runs/${failedId}/rerun`, { headers: h, body: { workflowVersion: 'current' } });
    expect([refused.status, refused.body.error]).toEqual([422, 'workflow_not_runnable']);
    expect(await runIdsOf(h, workflowId)).toHaveLength(4);
  });

  it('from the start: every step runs again, even of a run that completed', async () => {
    const h = owner.headers;
    const workflowId = await threeSteps(h, 'b');
    const firstId = await startRun(h, workflowId, {});
    expect(await waitForRun(app, h, firstId)).toMatchObject({ status: 'completed' });

    const rerun = await app.request('POST', `/api/runs/${firstId}/rerun`, { headers: h, body: { from: 'start' } });
    expect(rerun.status).toBe(202);
    expect(rerun.body.reusedBlocks).toEqual([]);
    const done = await waitForRun(app, h, rerun.body.runId);
    expect(done).toMatchObject({ status: 'completed', rerunOf: firstId, outputs: { first: { calls: 2 }, last: { calls: 2 } } });
  });

  it('from a block: it and what follows run again, what comes before keeps its output, of a completed run too', async () => {
    const h = owner.headers;
    const workflowId = await threeSteps(h, 'h');
    const firstId = await startRun(h, workflowId, { order: 9 });
    expect(await waitForRun(app, h, firstId)).toMatchObject({ status: 'completed', outputs: { first: { calls: 1 }, last: { calls: 1 } } });

    const rerun = await app.request('POST', `/api/runs/${firstId}/rerun`, { headers: h, body: { from: 'block', blockId: 'last' } });
    expect(rerun.status).toBe(202);
    expect(rerun.body).toMatchObject({ rerunOf: firstId, reusedBlocks: ['first', 'flaky'] });
    const done = await waitForRun(app, h, rerun.body.runId);
    expect(done).toMatchObject({ status: 'completed', rerunOf: firstId, input: { order: 9 }, outputs: { first: { calls: 1 }, flaky: { repaired: true }, last: { calls: 2 } } });
    expect(calls.get('h:first')).toBe(1);
    const started = await app.request('GET', `/api/runs/${rerun.body.runId}/events?limit=1`, { headers: h });
    expect(started.body.data[0]).toMatchObject({ type: 'RunStarted', data: { rerun: { of: firstId, from: 'block', blockId: 'last' } } });

    // A block the version does not have: 422, nothing created.
    const unknown = await app.request('POST', `/api/runs/${firstId}/rerun`, { headers: h, body: { from: 'block', blockId: 'nope' } });
    expect({ status: unknown.status, error: unknown.body.error }).toEqual({ status: 422, error: 'block_not_found' });
    expect((await runIdsOf(h, workflowId)).sort()).toEqual([firstId, rerun.body.runId].sort());

    // A step added since: the run's own version lacks it, the current one has it.
    await patchWorkflow(app, h, workflowId, [add('extra', 'rerun_count', { label: 'h:extra' }), connect('last', 'extra')]);
    const onPinned = await app.request('POST', `/api/runs/${firstId}/rerun`, { headers: h, body: { from: 'block', blockId: 'extra' } });
    expect({ status: onPinned.status, error: onPinned.body.error }).toEqual({ status: 422, error: 'block_not_found' });
    const onCurrent = await app.request('POST', `/api/runs/${firstId}/rerun`, { headers: h, body: { from: 'block', blockId: 'extra', workflowVersion: 'current' } });
    expect(onCurrent.status).toBe(202);
    expect(onCurrent.body.reusedBlocks).toEqual(['first', 'flaky', 'last']);
    expect(await waitForRun(app, h, onCurrent.body.runId)).toMatchObject({ status: 'completed', outputs: { last: { calls: 1 }, extra: { calls: 1 } } });
  });

  it('refuses a run that has not ended, and a rerun from the failure of a completed run, creating nothing', async () => {
    const h = owner.headers;
    const waiting = await createWorkflow(app, h, [add('start', 'trigger_manual'), add('hold', 'wait_for_event', { eventName: 'never' }), connect('start', 'hold')]);
    const waitingRun = await startRun(h, waiting, {});
    await waitForRun(app, h, waitingRun, ['waiting']);
    const notEnded = await app.request('POST', `/api/runs/${waitingRun}/rerun`, { headers: h, body: { from: 'start' } });
    expect(notEnded.status).toBe(409);
    expect(notEnded.body.error).toBe('run_not_ended');
    expect(await runIdsOf(h, waiting)).toEqual([waitingRun]);

    const completedFlow = await threeSteps(h, 'c');
    const completed = await startRun(h, completedFlow, {});
    await waitForRun(app, h, completed);
    const notFailed = await app.request('POST', `/api/runs/${completed}/rerun`, { headers: h, body: { from: 'failure' } });
    expect(notFailed.status).toBe(409);
    expect(notFailed.body.error).toBe('run_not_failed');
    expect(await runIdsOf(h, completedFlow)).toEqual([completed]);
  });

  it('answers a repeated idempotency key with the same rerun, and refuses the key for another request', async () => {
    const h = owner.headers;
    const workflowId = await threeSteps(h, 'e');
    broken.add('e');
    const failedId = await startRun(h, workflowId, {});
    await waitForRun(app, h, failedId);
    const first = await app.request('POST', `/api/runs/${failedId}/rerun`, { headers: h, body: { idempotencyKey: 'rerun-e' } });
    expect(first.status).toBe(202);
    const again = await app.request('POST', `/api/runs/${failedId}/rerun`, { headers: h, body: { idempotencyKey: 'rerun-e' } });
    expect(again.body).toMatchObject({ runId: first.body.runId, duplicate: true, rerunOf: failedId });
    const other = await app.request('POST', `/api/runs/${failedId}/rerun`, { headers: h, body: { idempotencyKey: 'rerun-e', from: 'start' } });
    expect(other.status).toBe(409);
    expect(other.body.error).toBe('idempotency_conflict');
    expect((await runIdsOf(h, workflowId)).sort()).toEqual([failedId, first.body.runId].sort());
  });

  it("refuses a run whose workflow was deleted: a deleted workflow starts no more runs", async () => {
    const h = owner.headers;
    const workflowId = await threeSteps(h, 'f');
    broken.add('f');
    const failedId = await startRun(h, workflowId, {});
    await waitForRun(app, h, failedId);
    expect((await app.request('DELETE', `/api/workflows/${workflowId}`, { headers: h })).status).toBe(204);
    const res = await app.request('POST', `/api/runs/${failedId}/rerun`, { headers: h, body: {} });
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('workflow_not_found');
  });

  it('reruns a run whose reused outputs are large: each near the per-step bound, 1.2 MiB together', async () => {
    const h = owner.headers;
    const steps = ['b1', 'b2', 'b3', 'b4', 'b5'];
    const workflowId = await createWorkflow(app, h, [
      add('start', 'trigger_manual'),
      ...steps.map((id) => add(id, 'rerun_big', { kb: 250 })),
      add('flaky', 'rerun_flaky', { label: 'g' }),
      ...steps.map((id, i) => connect(i === 0 ? 'start' : steps[i - 1]!, id)),
      connect('b5', 'flaky'),
    ]);
    broken.add('g');
    const failedId = await startRun(h, workflowId, {});
    expect(await waitForRun(app, h, failedId)).toMatchObject({ status: 'failed' });
    broken.delete('g');
    const rerun = await app.request('POST', `/api/runs/${failedId}/rerun`, { headers: h });
    expect(rerun.status).toBe(202);
    expect(rerun.body.reusedBlocks).toEqual(steps);
    const done = await waitForRun(app, h, rerun.body.runId);
    expect(done.status).toBe('completed');
    expect((done.outputs.b5 as { blob: string }).blob).toHaveLength(250 * 1024);
  });

  it('answers bad bodies with 400, unknown and foreign runs with 404, and viewers with 403', async () => {
    const h = owner.headers;
    const workflowId = await threeSteps(h, 'd');
    broken.add('d');
    const failedId = await startRun(h, workflowId, {});
    await waitForRun(app, h, failedId);

    for (const body of [{ from: 'middle' }, { from: 1 }, [1, 2], { idempotencyKey: '' }, { workflowVersion: 'latest' }, { from: 'block' }, { from: 'start', blockId: 'first' }, { from: 'block', blockId: '' }]) {
      const res = await app.request('POST', `/api/runs/${failedId}/rerun`, { headers: h, body });
      expect({ body, status: res.status, error: res.body.error }).toEqual({ body, status: 400, error: 'invalid_body' });
    }
    for (const [headers, id] of [[other.headers, failedId], [h, 'no-such-run']] as const) {
      const res = await app.request('POST', `/api/runs/${id}/rerun`, { headers, body: {} });
      expect({ id, status: res.status, error: res.body.error }).toEqual({ id, status: 404, error: 'not_found' });
    }
    const viewer = await addMember(app, owner, 'viewer');
    const refused = await app.request('POST', `/api/runs/${failedId}/rerun`, { headers: viewer.headers, body: {} });
    expect(refused.status).toBe(403);
    expect(await runIdsOf(h, workflowId)).toEqual([failedId]);
  });
});

describe('rerunning the runs of a workflow in bulk', () => {
  it('replays the failed runs after a repair, page by page, from their failures; a retried call answers the same reruns', async () => {
    const h = owner.headers;
    const workflowId = await threeSteps(h, 'bulk');
    const fine = await startRun(h, workflowId, { n: 0 });
    expect((await waitForRun(app, h, fine)).status).toBe('completed');
    broken.add('bulk');
    const failed: string[] = [];
    for (let n = 1; n <= 4; n++) failed.push(await startRun(h, workflowId, { n }));
    for (const runId of failed) expect((await waitForRun(app, h, runId)).status).toBe('failed');
    broken.delete('bulk');
    const firstCalls = calls.get('bulk:first');

    const bulk = (body: Record<string, unknown>) => app.request('POST', `/api/workflows/${workflowId}/runs/rerun`, { headers: h, body });
    const first = await bulk({ limit: 3, idempotencyKey: 'replay-1' });
    expect(first.status).toBe(202);
    expect(first.body.rerun.map((r: { rerunOf: string }) => r.rerunOf)).toEqual(failed.slice(0, 3));
    expect(first.body.refused).toEqual([]);
    const second = await bulk({ limit: 3, idempotencyKey: 'replay-1', after: first.body.next });
    expect(second.body).toMatchObject({ rerun: [{ rerunOf: failed[3] }], refused: [], next: null });
    const reruns = [...first.body.rerun, ...second.body.rerun] as { runId: string; rerunOf: string }[];
    for (const { runId, rerunOf } of reruns) expect(await waitForRun(app, h, runId)).toMatchObject({ status: 'completed', rerunOf });
    // From their failures: `first` kept its output and did not run again.
    expect(calls.get('bulk:first')).toBe(firstCalls);

    // The same call again (a retry after a lost answer): the same reruns, none new.
    const retried = await bulk({ limit: 3, idempotencyKey: 'replay-1' });
    expect(retried.body.rerun.map((r: { runId: string }) => r.runId)).toEqual(first.body.rerun.map((r: { runId: string }) => r.runId));

    // What cannot be rerun is listed, and the others go on: a completed run has no failure to rerun from.
    const completed = await bulk({ status: 'completed', from: 'failure', startedBefore: new Date(Date.parse((await waitForRun(app, h, failed[0]!)).startedAt)).toISOString() });
    expect(completed.body).toEqual({ rerun: [], refused: [{ runId: fine, error: 'run_not_failed', message: expect.any(String) }], next: null });
    expect((await bulk({ limit: 0 })).body).toMatchObject({ error: 'invalid_body' });
    expect((await app.request('POST', `/api/workflows/${workflowId}/runs/rerun`, { headers: other.headers, body: {} })).status).toBe(404);
  });
});
