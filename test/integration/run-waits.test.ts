import { randomBytes } from 'node:crypto';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { RunningThodare } from '../../src/main';
import type { RunEvent, WaitCompleted } from '../../src/domain/run/run.events';
import { DecideApprovalCommand } from '../../src/runs/decide-approval.command';
import { GetApprovalQuery } from '../../src/runs/get-approval.query';
import { PublishEventCommand } from '../../src/runs/publish-event.command';
import { RunClaims } from '../../src/run-queue/run-claims';
import { RunStore } from '../../src/runs/run-store';
import { SignalRunCommand } from '../../src/runs/signal-run.command';
import { RunClock } from '../../src/worker/run-clock';
import { RunWorker } from '../../src/worker/run-worker.service';
import { readUntil, type TestDatabase } from '../support/database';
import { block, edge, workflowOf } from '../support/run-workflows';
import { createRunTestDatabase, startRun, startWorkerApp, testMetadata, viewRun, waitForStatus } from '../support/run-harness';

let db: TestDatabase;
let worker: RunningThodare & { logs: string[] };
const ORG = 'org-test';

beforeAll(async () => {
  db = await createRunTestDatabase('run_waits');
  worker = await startWorkerApp(db);
});
afterAll(async () => {
  await worker?.close();
  await db?.drop();
});

const bus = () => worker.app.get(CommandBus);
const publish = (name: string, payload: unknown, correlationKey?: string, organizationId = ORG) =>
  bus().execute(new PublishEventCommand(organizationId, { name, payload, ...(correlationKey ? { correlationKey } : {}) }, testMetadata));

/** trigger → [before] → wait (wait_for_event) → after (echoes the event data). */
const waitForEvent = (params: Record<string, unknown>, before?: { type: string; params: Record<string, unknown> }) => {
  const blocks = [block('wait', 'wait_for_event', params), block('after', 'transform', { template: '{{wait.data}}' })];
  const edges = [edge('wait', 'after')];
  if (before) {
    blocks.unshift(block('before', before.type, before.params));
    edges.unshift(edge('trigger', 'before'), edge('before', 'wait'));
  } else edges.unshift(edge('trigger', 'wait'));
  return workflowOf(blocks, edges);
};

describe('wait_for_event with a correlation key from the run', () => {
  it('fails the block with invalid_wait_params when the key is longer than a published one may be, instead of the store refusing the run', async () => {
    // The key comes from the input: 5,000 incompressible characters were past the row limit of
    // the waits' index, and the store refused the run's batch (append_rejected: the run ended
    // with an error that named nothing the author could fix).
    const workflow = waitForEvent({ eventName: 'paid', correlationKey: '{{trigger.order}}' });
    const runId = await startRun(worker, workflow, { order: randomBytes(3_750).toString('base64url') });
    expect(await waitForStatus(db.pool, runId)).toBe('failed');
    const view = await viewRun(worker, runId);
    expect(view.error).toMatchObject({ code: 'invalid_wait_params', blockId: 'wait' });
    expect(view.error?.message).toContain('correlationKey');
  });
});

describe('wait_duration', () => {
  const napThen = (durationMs: number) => workflowOf([block('nap', 'wait_duration', { durationMs }), block('after', 'transform', { template: 'woke' })], [edge('trigger', 'nap'), edge('nap', 'after')]);

  async function sleepingRow(runId: string) {
    expect(await waitForStatus(db.pool, runId, ['sleeping', 'completed'])).toBe('sleeping');
    const view = await viewRun(worker, runId);
    expect(view.waitingFor).toMatchObject({ kind: 'wait_duration', blockId: 'nap', until: expect.any(String) });
    const { rows } = await db.pool.query('SELECT lease_owner, lease_epoch, available_at FROM run_state WHERE run_id = $1', [runId]);
    // Durable either way: due at the sleep's end, for any worker once no lease holds it.
    expect(rows[0].available_at.toISOString()).toBe(view.waitingFor?.until);
    return rows[0] as { lease_owner: string | null; lease_epoch: number };
  }

  /** Every claim bumps the epoch. */
  const epochOf = async (runId: string) => (await db.pool.query<{ lease_epoch: number }>('SELECT lease_epoch FROM run_state WHERE run_id = $1', [runId])).rows[0]!.lease_epoch;

  it('sets no timer past what Node can hold while one branch sleeps for weeks and another runs a step', async () => {
    // Node fires a setTimeout longer than 2^31 - 1 ms (~24.8 days) after 1 ms: the run held for
    // its running branch woke itself every millisecond to find its other branch still asleep.
    const weeks = 30 * 24 * 60 * 60 * 1000;
    const workflow = workflowOf(
      [block('nap', 'wait_duration', { durationMs: weeks }), block('slow', 'test_sleep', { ms: 800 })],
      [edge('trigger', 'nap'), edge('trigger', 'slow')],
    );
    const timers = jest.spyOn(global, 'setTimeout');
    try {
      const runId = await startRun(worker, workflow);
      await waitForStatus(db.pool, runId, ['sleeping']);
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // the step has run meanwhile
      const overflowing = timers.mock.calls.filter(([, delay]) => typeof delay === 'number' && delay > 2 ** 31 - 1);
      expect(overflowing).toHaveLength(0);
      expect((await viewRun(worker, runId)).waitingFor).toMatchObject({ kind: 'wait_duration', blockId: 'nap' });
    } finally {
      timers.mockRestore();
    }
  });

  it('parks a run that sleeps longer than the hold window: no lease, due at its end, and resumes', async () => {
    const runId = await startRun(worker, napThen(2_000)); // the harness's lease is 3 s: the window is 1.5 s
    const sleeping = await sleepingRow(runId);
    expect(sleeping.lease_owner).toBeNull();
    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    expect(await epochOf(runId)).toBe(sleeping.lease_epoch + 1); // claimed again when due
    expect((await viewRun(worker, runId)).outputs['after']).toEqual({ value: 'woke' });
  });

  it('keeps holding a run whose sleep ends within the hold window, and resumes it without a claim', async () => {
    // 1 s: inside the 1.5 s window, and long enough that the reads below see the run still asleep
    // on a loaded machine (at 300 ms a full run once read it after its end, its lease released).
    const runId = await startRun(worker, napThen(1_000));
    const sleeping = await sleepingRow(runId);
    expect(sleeping.lease_owner).not.toBeNull();
    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    expect((await viewRun(worker, runId)).outputs['after']).toEqual({ value: 'woke' });
    expect(await epochOf(runId)).toBe(sleeping.lease_epoch); // one lease from the sleep to the end: no claim
  });

  it('holds a run whose sleep begins while a claim pass is out: the slots the claim took are not runs', async () => {
    // A pass takes seven eighths of the free slots while its claim is in flight. Counted as busy,
    // they parked the run (no lease), and it was claimed again at its wake.
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const claims = jest.spyOn(RunClaims.prototype, 'claimBatch').mockImplementationOnce(() => answered.then(() => []));
    try {
      worker.app.get(RunWorker).wake();
      await readUntil(async () => claims.mock.calls.length, (calls) => calls > 0);
      expect(claims).toHaveBeenCalled(); // the pass is out, its slots taken
      const runId = await startRun(worker, napThen(1_000));
      const sleeping = await sleepingRow(runId);
      expect(sleeping.lease_owner).not.toBeNull();
      answer();
      expect(await waitForStatus(db.pool, runId)).toBe('completed');
      expect(await epochOf(runId)).toBe(sleeping.lease_epoch); // no claim at the wake
    } finally {
      answer();
      claims.mockRestore();
    }
  });

  /** The sleep's end, when its end was recorded, and (when `type`) when the step after it was called and when the run ended. */
  async function wakeOf(runId: string) {
    const { rows } = await db.pool.query<{ until: Date; woke: Date; called: Date | null; ended: Date }>(
      `SELECT (s.data->>'until')::timestamptz AS until, w.recorded_at AS woke, e.recorded_at AS ended,
         (SELECT min(c.at) FROM test_calls c WHERE c.run_id = $2) AS called
       FROM events s JOIN events w ON w.stream_id = s.stream_id AND w.type = 'WaitCompleted'
         JOIN events e ON e.stream_id = s.stream_id AND e.type = 'RunCompleted'
       WHERE s.stream_id = $1 AND s.type = 'RunSleeping'`,
      [`run-${runId}`, runId],
    );
    return rows[0]!;
  }

  it("decides a held run's wake ahead of its moment, as of the moment, when the clock alone makes it due, and calls the step after it only at the moment", async () => {
    // The wake (the sleep's end, the next attempt's start) is decided a few ms early, as of its
    // moment (ActiveRun's DECIDE_AHEAD_MS), so that its commit can lie inside the sleep. Whether
    // it does depends on the machine's load (a timer fires late on a busy one), so this asserts
    // the decision, not the commit's timing; the runtime bench's S1 row measures the gain. (A CI
    // run once recorded three wakes in a row after their moment: the runs had been parked at
    // their sleep by a claim pass in flight, and were never held to be decided ahead; see the
    // test above.)
    const decided = jest.spyOn(RunClock.prototype, 'decideAsOf');
    try {
      const workflow = workflowOf([block('nap', 'wait_duration', { durationMs: 1_000 }), block('after', 'test_count', { label: 'after-nap' })], [edge('trigger', 'nap'), edge('nap', 'after')]);
      const runId = await startRun(worker, workflow);
      expect(await waitForStatus(db.pool, runId)).toBe('completed');
      const wake = await wakeOf(runId);
      expect(decided.mock.calls.map(([at]) => at.getTime())).toContain(wake.until.getTime());
      expect(wake.called!.getTime()).toBeGreaterThanOrEqual(wake.until.getTime()); // never before the moment
    } finally {
      decided.mockRestore();
    }
  });

  it('never ends a run before the sleep that ends it is over, even when the sleep is decided ahead', async () => {
    // A batch decided ahead that starts no call (the run's end, here) is committed at the moment:
    // no one may learn that the run ended before its sleep did.
    for (const workflow of [workflowOf([block('nap', 'wait_duration', { durationMs: 1_000 })], [edge('trigger', 'nap')]), napThen(1_000)]) {
      const runId = await startRun(worker, workflow);
      expect(await waitForStatus(db.pool, runId)).toBe('completed');
      const wake = await wakeOf(runId);
      expect(wake.ended.getTime()).toBeGreaterThanOrEqual(wake.until.getTime());
      expect(Date.parse((await viewRun(worker, runId)).endedAt!)).toBeGreaterThanOrEqual(wake.until.getTime());
    }
  });

  it("records a sleep's end like a step, in one statement: no read model but run_state changes with it", () => {
    const store = worker.app.get(RunStore);
    const ended = (reason: WaitCompleted['data']['reason']): RunEvent => ({ type: 'WaitCompleted', data: { blockId: 'nap', reason, output: null, at: new Date().toISOString() } });
    const nextStep: RunEvent = { type: 'StepAttemptStarted', data: { blockId: 'after', blockType: 'transform', attempt: 1, input: {}, at: new Date().toISOString() } };
    expect(store.appendsInOneStatement([ended('elapsed'), nextStep])).toBe(true);
    // An event wait's or an approval's end removes its row in the same transaction.
    expect(store.appendsInOneStatement([ended('signal'), nextStep])).toBe(false);
    expect(store.appendsInOneStatement([ended('timeout')])).toBe(false);
  });
});

describe('wait_for_event', () => {
  it('is resumed by a signal sent to the run, with its payload', async () => {
    const runId = await startRun(worker, waitForEvent({ eventName: 'go' }));
    expect(await waitForStatus(db.pool, runId, ['waiting'])).toBe('waiting');
    expect((await viewRun(worker, runId)).waitingFor).toEqual({ kind: 'wait_for_event', blockId: 'wait', eventName: 'go' });
    await bus().execute(new SignalRunCommand(ORG, runId, { name: 'go', payload: { x: 1 } }, testMetadata));
    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    expect((await viewRun(worker, runId)).outputs['wait']).toEqual({ data: { x: 1 }, timedOut: false });
  });

  it('stores a signal sent before the wait begins and delivers it then', async () => {
    const runId = await startRun(worker, waitForEvent({ eventName: 'early' }, { type: 'wait_duration', params: { durationMs: 300 } }));
    await bus().execute(new SignalRunCommand(ORG, runId, { name: 'early', payload: 'stored' }, testMetadata));
    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    expect((await viewRun(worker, runId)).outputs['after']).toEqual({ value: 'stored' });
  });

  it('delivers an organization event published before the wait began', async () => {
    const runId = await startRun(worker, waitForEvent({ eventName: 'order.paid', correlationKey: '{{trigger.order}}' }, { type: 'wait_duration', params: { durationMs: 400 } }), { order: 'o-early' });
    expect(await waitForStatus(db.pool, runId, ['sleeping'])).toBe('sleeping');
    const published = await publish('order.paid', { amount: 5 }, 'o-early');
    expect(published.matchedRuns).toBe(0); // nobody waits yet
    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    expect((await viewRun(worker, runId)).outputs['wait']).toEqual({ data: { amount: 5 }, timedOut: false });
  });

  it('keeps runs apart by correlation key: two runs, two keys, two payloads', async () => {
    const wf = waitForEvent({ eventName: 'invoice.settled', correlationKey: '{{trigger.invoice}}' });
    const a = await startRun(worker, wf, { invoice: 'A' });
    const b = await startRun(worker, wf, { invoice: 'B' });
    await waitForStatus(db.pool, a, ['waiting']);
    await waitForStatus(db.pool, b, ['waiting']);

    expect((await publish('invoice.settled', { paid: 'for B' }, 'B')).matchedRuns).toBe(1);
    expect(await waitForStatus(db.pool, b)).toBe('completed');
    expect((await viewRun(worker, a)).status).toBe('waiting');
    expect((await publish('invoice.settled', { paid: 'for A' }, 'A')).matchedRuns).toBe(1);
    expect(await waitForStatus(db.pool, a)).toBe('completed');

    expect((await viewRun(worker, a)).outputs['after']).toEqual({ value: { paid: 'for A' } });
    expect((await viewRun(worker, b)).outputs['after']).toEqual({ value: { paid: 'for B' } });
  });

  it('never delivers an event of another organization', async () => {
    const runId = await startRun(worker, waitForEvent({ eventName: 'shared.name' }));
    await waitForStatus(db.pool, runId, ['waiting']);
    expect((await publish('shared.name', 'not yours', undefined, 'org-other')).matchedRuns).toBe(0);
    expect((await viewRun(worker, runId)).status).toBe('waiting');
    expect((await publish('shared.name', 'yours')).matchedRuns).toBe(1);
    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    expect((await viewRun(worker, runId)).outputs['after']).toEqual({ value: 'yours' });
  });

  it('times out with timedOut: true', async () => {
    const runId = await startRun(worker, waitForEvent({ eventName: 'never', timeoutMs: 200 }));
    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    expect((await viewRun(worker, runId)).outputs['wait']).toEqual({ data: null, timedOut: true });
  });
});

describe('human_approval', () => {
  const approvalFlow = workflowOf(
    [block('ask', 'human_approval', { prompt: 'Ship it?' }), block('after', 'transform', { template: '{{ask.approved}}' })],
    [edge('trigger', 'ask'), edge('ask', 'after')],
  );

  it('waits on a single-use token, resumes with the decision, and refuses a second one', async () => {
    const runId = await startRun(worker, approvalFlow);
    expect(await waitForStatus(db.pool, runId, ['waiting'])).toBe('waiting');
    const token = (await viewRun(worker, runId)).waitingFor?.approvalToken;
    expect(token).toMatch(/^tha_[A-Za-z0-9_-]{43}$/);
    const queries = worker.app.get(QueryBus);
    expect(await queries.execute(new GetApprovalQuery(token!))).toMatchObject({ prompt: 'Ship it?', status: 'pending', runId });

    expect(await bus().execute(new DecideApprovalCommand(token!, { approved: true, by: 'user:alice', note: 'ok' }, testMetadata))).toMatchObject({ status: 'approved', runId });
    await expect(bus().execute(new DecideApprovalCommand(token!, { approved: false }, testMetadata))).rejects.toMatchObject({ code: 'approval_decided' });

    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    expect((await viewRun(worker, runId)).outputs['ask']).toEqual({ approved: true, by: 'user:alice', note: 'ok', timedOut: false });
    expect(await queries.execute(new GetApprovalQuery(token!))).toMatchObject({ status: 'approved', decidedBy: 'user:alice' });
    await expect(queries.execute(new GetApprovalQuery('not-a-token'))).rejects.toMatchObject({ code: 'not_found' });
  });
});
