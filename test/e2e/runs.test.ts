import { createServer, type Server } from 'node:http';
import { connect as connectTcp, type AddressInfo, type Socket } from 'node:net';
import { Pool, type PoolClient } from 'pg';
import { FALLBACK_CHECK_MS } from '../../src/runs/run-waiter';
import { RunHandoff } from '../../src/runs/run-handoff';
import { RunStore } from '../../src/runs/run-store';
import { startTestApp, type TestApp } from '../support/app';
import { recordQueries, recordStatements, type SentQuery } from '../support/statements';
import { addMember, signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, patchWorkflow, waitForLogs, waitForRun } from '../support/run-api';

let app: TestApp;
let owner: SignedUp;
let slack: Server;
const slackCalls: Array<{ authorization: string | undefined; body: string }> = [];
const TOKEN = 'xoxb-very-secret-token-123456';

beforeAll(async () => {
  slack = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      slackCalls.push({ authorization: req.headers.authorization, body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, channel: 'C1', ts: '1.2', echo: req.headers.authorization }));
    });
  });
  await new Promise<void>((resolve) => slack.listen(0, '127.0.0.1', resolve));
  const port = (slack.address() as AddressInfo).port;
  app = await startTestApp('runs', { THODARE_SLACK_BASE_URL: `http://127.0.0.1:${port}` });
  owner = await signUp(app);
});
afterAll(async () => {
  await app?.close();
  await new Promise((resolve) => slack?.close(resolve));
});

const h = () => owner.headers;

/**
 * Watches this process's hand-off: `heldThrough(runId)` when its worker took the run at its start
 * and said it held the run every time it was asked (on a loaded machine a start may find no free
 * slot, or a run may be parked through a sleep).
 */
function watchHandoff(): { heldThrough: (runId: string) => boolean; restore: () => void } {
  const handoff = app.running.app.get(RunHandoff);
  const tryStart = handoff.tryStart.bind(handoff);
  const holds = handoff.holds.bind(handoff);
  const taken = new Set<string>();
  const notHeld = new Set<string>();
  const starts = jest.spyOn(handoff, 'tryStart').mockImplementation(async (started, metadata, checkWorkflow) => {
    const status = await tryStart(started, metadata, checkWorkflow);
    if (status) taken.add(started.data.runId);
    return status;
  });
  const held = jest.spyOn(handoff, 'holds').mockImplementation((runId) => {
    const answer = holds(runId);
    if (!answer) notHeld.add(runId);
    return answer;
  });
  return {
    heldThrough: (runId) => taken.has(runId) && !notHeld.has(runId),
    restore: () => {
      starts.mockRestore();
      held.mockRestore();
    },
  };
}

const echo = (template: unknown) => [add('start', 'trigger_manual'), add('echo', 'transform', { template }), connect('start', 'echo')];

describe('starting runs', () => {
  it('starts a run and, with ?waitMs=, answers 200 with the finished run', async () => {
    const id = await createWorkflow(app, h(), echo({ hello: '{{trigger.name}}' }));
    const res = await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: h(), body: { input: { name: 'ada' } } });

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      workflowId: id,
      workflowVersion: 2,
      status: 'completed',
      input: { name: 'ada' },
      outputs: { start: { name: 'ada' }, echo: { value: { hello: 'ada' } } },
      error: null,
      waitingFor: null,
    });
    expect(res.body.endedAt).toEqual(expect.any(String));
  });

  it('answers ?waitMs= from the final state this process recorded, exactly as GET /api/runs/:id shows it, without reading its stream back', async () => {
    const id = await createWorkflow(app, h(), echo({ hello: '{{trigger.name}}' }));
    const pool = app.running.app.get(Pool);
    const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
    // The run's end shows in run_state before the commit's own answer does. A waiter that takes
    // the run for one this process's worker does not hold (its look-up queued behind the claim
    // that took it) looks it up: make that look-up win the race every time (each run append's
    // answer arrives 20 ms late, the run-ending one only after the waiter's fallback check).
    const unheld = jest.spyOn(app.running.app.get(RunHandoff), 'holds').mockReturnValue(false);
    const queries = jest.spyOn(pool, 'query').mockImplementation(((...args: unknown[]) => {
      const statement = args[0] as { name?: string; values?: unknown[] };
      const append = statement.name === 'thodare-run-append';
      const ending = append && String(statement.values?.[0]).includes('"RunCompleted"');
      return query(...args).then(async (result) => {
        if (append) await new Promise((resolve) => setTimeout(resolve, ending ? FALLBACK_CHECK_MS + 300 : 20));
        return result;
      });
    }) as unknown as typeof pool.query);
    const answers: Awaited<ReturnType<TestApp['request']>>[] = [];
    let sent: unknown[][];
    try {
      for (let i = 0; i < 3; i += 1) answers.push(await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: h(), body: { input: { name: 'ada' } } }));
      sent = [...queries.mock.calls];
    } finally {
      queries.mockRestore();
      unheld.mockRestore();
    }
    expect(answers.map((a) => a.status)).toEqual(Array(3).fill(200));
    // Neither the answer (GET /api/runs/:id folds the stream) nor the worker, which keeps the
    // state of the run it started, reads the run's events back.
    const runStreams = new Set(answers.map((a) => `run-${a.body.id}`));
    const streamReads = sent.filter(([, values]) => Array.isArray(values) && runStreams.has(values[0] as string));
    expect(streamReads).toHaveLength(0);
    const res = answers[0]!;
    const read = await app.request('GET', `/api/runs/${res.body.id}`, { headers: h() });
    expect(res.body).toEqual(read.body);
    expect(res.body).toMatchObject({ status: 'completed', outputs: { echo: { value: { hello: 'ada' } } } });
  });

  it('answers ?waitMs= for a failed run from its final state too, and as GET /api/runs/:id shows it', async () => {
    const id = await createWorkflow(app, h(), [...echo('fine'), add('boom', 'transform', { template: '{{echo.value.missing.deeper}}' }), connect('echo', 'boom')]);
    const pool = app.running.app.get(Pool);
    const connect_ = pool.connect.bind(pool) as (...args: unknown[]) => Promise<PoolClient>;
    // A run's failure is written in its own transaction, and run_state shows it at the COMMIT.
    // As above, the waiter takes the run for one it must look up: make the COMMIT's answer lose
    // that race every time (each answer arrives only after the waiter's fallback check).
    const unheld = jest.spyOn(app.running.app.get(RunHandoff), 'holds').mockReturnValue(false);
    const late = new Map<PoolClient, PoolClient['query']>();
    const connects = jest.spyOn(pool, 'connect').mockImplementation(((...args: unknown[]) => {
      if (args.length > 0) return connect_(...args); // pool.query's own checkout (callback style)
      return connect_().then(latenCommit);
    }) as unknown as typeof pool.connect);
    function latenCommit(client: PoolClient): PoolClient {
      if (late.has(client)) return client;
      late.set(client, client.query);
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      client.query = ((...args: unknown[]) => {
        if (args[0] !== 'COMMIT' || args.length > 1) return query(...args);
        return (query(...args) as Promise<unknown>).then(async (result) => {
          await new Promise((resolve) => setTimeout(resolve, FALLBACK_CHECK_MS + 300));
          return result;
        });
      }) as typeof client.query;
      return client;
    }
    const queries = jest.spyOn(pool, 'query');
    const answers: Awaited<ReturnType<TestApp['request']>>[] = [];
    let sent: unknown[][];
    try {
      for (let i = 0; i < 3; i += 1) answers.push(await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: h(), body: {} }));
      sent = [...queries.mock.calls];
    } finally {
      queries.mockRestore();
      connects.mockRestore();
      unheld.mockRestore();
      late.forEach((query, client) => (client.query = query));
    }
    expect(answers.map((a) => [a.status, a.body.status])).toEqual(Array(3).fill([200, 'failed']));
    const runStreams = new Set(answers.map((a) => `run-${a.body.id}`));
    expect(sent.filter(([, values]) => Array.isArray(values) && runStreams.has(values[0] as string))).toHaveLength(0);
    const read = await app.request('GET', `/api/runs/${answers[0]!.body.id}`, { headers: h() });
    expect(answers[0]!.body).toEqual(read.body);
    expect(read.body.error).toMatchObject({ blockId: 'boom' });
  });

  it('looks run_state up for many concurrent ?waitMs= requests in a few statements, not one per request and second', async () => {
    const id = await createWorkflow(app, h(), [add('start', 'trigger_manual'), add('nap', 'wait_duration', { durationMs: 1500 }), add('echo', 'transform', { template: 'woke' }), connect('start', 'nap'), connect('nap', 'echo')]);
    let texts: string[] = [];
    const stop = recordStatements();
    const answers = await Promise.all(Array.from({ length: 30 }, () => app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: h(), body: {} }))).finally(() => {
      texts = stop();
    });
    expect(answers.map((a) => [a.status, a.body.status])).toEqual(Array(30).fill([200, 'completed']));
    // Each waiter read its run's row at once and once a second before: 60 reads and more.
    expect(texts.filter((text) => /FROM run_state WHERE run_id/.test(text)).length).toBeLessThan(15);
  });

  it("answers ?waitMs= starts that this process's worker took without looking their end up in run_state", async () => {
    // A short sleep: the run is still going when the start answers, held by this process's worker.
    const id = await createWorkflow(app, h(), [add('start', 'trigger_manual'), add('nap', 'wait_duration', { durationMs: 20 }), add('echo', 'transform', { template: 'held here' }), connect('start', 'nap'), connect('nap', 'echo')]);
    await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: h(), body: {} }); // the workflow read and cached
    // The claim is about runs the worker took at their start and held to their end. On a loaded
    // machine a start may find no free slot, or the run may be parked through its sleep: then the
    // waiter rightly looks it up, and that run is left out.
    const handoff = watchHandoff();
    const stop = recordQueries();
    const answers: Awaited<ReturnType<TestApp['request']>>[] = [];
    let sent: SentQuery[] = [];
    try {
      for (let i = 0; i < 5; i += 1) answers.push(await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: h(), body: {} }));
    } finally {
      sent = stop();
      handoff.restore();
    }
    expect(answers.map((a) => [a.status, a.body.status])).toEqual(Array(5).fill([200, 'completed']));
    // Their ends are told in process: a look-up per start was a statement of every serial wait.
    // (Only these runs': a waiter an earlier test left may still look its own run up.)
    const ours = answers.map((a) => a.body.id as string).filter(handoff.heldThrough);
    expect(ours.length).toBeGreaterThan(0);
    expect(sent.filter((q) => /FROM run_state WHERE run_id = ANY\(\$1\) AND status IN/.test(q.text) && ours.some((id) => JSON.stringify(q.values).includes(id)))).toEqual([]);
  });

  it("does not look up, even once a second, the end of a run this process's worker holds through a wait", async () => {
    // A nap the worker holds idle (shorter than its hold), longer than the waiter's fallback period.
    const napMs = FALLBACK_CHECK_MS + 500;
    const id = await createWorkflow(app, h(), [add('start', 'trigger_manual'), add('nap', 'wait_duration', { durationMs: napMs }), add('echo', 'transform', { template: 'held here' }), connect('start', 'nap'), connect('nap', 'echo')]);
    await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: h(), body: {} }); // the workflow read and cached
    // As above: on a loaded machine a start may find no free slot or the run may be parked through
    // its nap, and then the waiter rightly looks it up. Such a run is started again (three tries):
    // the claim is about a run the worker took at its start and held to its end.
    const handoff = watchHandoff();
    let heldThrough: string | undefined;
    let sent: SentQuery[] = [];
    try {
      for (let attempt = 0; attempt < 3 && heldThrough === undefined; attempt += 1) {
        const stop = recordQueries();
        const answer = await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: h(), body: {} }).finally(() => (sent = stop()));
        expect([answer.status, answer.body.status]).toEqual([200, 'completed']);
        const runId = answer.body.id as string;
        if (handoff.heldThrough(runId)) heldThrough = runId;
      }
    } finally {
      handoff.restore();
    }
    expect(heldThrough).toBeDefined();
    // The fallback re-check is for ends told over NOTIFY, which can be lost; this one is told in
    // process. (Only this run's: a waiter an earlier test left may still look its own run up.)
    const lookups = sent.filter((q) => /FROM run_state WHERE run_id = ANY\(\$1\) AND status IN/.test(q.text) && JSON.stringify(q.values).includes(heldThrough!));
    expect(lookups).toEqual([]);
  });

  it('takes a run whose first batch begins a wait for an event at its start, in this process, instead of queueing it for a claim', async () => {
    const id = await createWorkflow(app, h(), [add('start', 'trigger_manual'), add('hold', 'wait_for_event', { eventName: 'first-wait' }), add('out', 'transform', { template: '{{hold.data}}' }), connect('start', 'hold'), connect('hold', 'out')]);
    const handoff = app.running.app.get(RunHandoff);
    const taken = jest.spyOn(handoff, 'tryStart');
    let run;
    try {
      run = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: {} });
      expect(run.status).toBe(202);
      // Its first batch is more than one statement (run_waits handles it too): such a start was
      // not taken (undefined), and the run went through the queue, a claim and a read of its stream.
      expect(await taken.mock.results[0]!.value).toEqual(expect.any(String));
    } finally {
      taken.mockRestore();
    }
    await waitForRun(app, h(), run.body.runId, ['waiting']);
    const published = await app.request('POST', '/api/events', { headers: h(), body: { name: 'first-wait', payload: { ok: true } } });
    expect(published.body.matchedRuns).toBe(1);
    expect((await waitForRun(app, h(), run.body.runId)).outputs.out).toEqual({ value: { ok: true } });
  });

  it('stamps a run on one clock: createdAt <= startedAt <= endedAt, in the run and in the listing', async () => {
    const id = await createWorkflow(app, h(), echo('clock'));
    const runs = [];
    for (let i = 0; i < 20; i += 1) {
      runs.push((await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: h(), body: {} })).body);
    }
    const listed = (await app.request('GET', `/api/runs?workflowId=${id}&limit=50`, { headers: h() })).body.data;

    for (const run of [...runs, ...listed]) {
      expect(run.status).toBe('completed');
      expect(Date.parse(run.createdAt)).toBeLessThanOrEqual(Date.parse(run.startedAt));
      expect(Date.parse(run.startedAt)).toBeLessThanOrEqual(Date.parse(run.endedAt));
    }
  });

  it('answers 202 with the run id through the alias, and the run finishes', async () => {
    const id = await createWorkflow(app, h(), echo('x'));
    const res = await app.request('POST', `/api/workflows/${id}/run`, { headers: h(), body: {} });

    expect(res.status).toBe(202);
    expect(res.body).toEqual({ runId: expect.any(String), status: expect.stringMatching(/^(queued|running|completed)$/), workflowVersion: 2 });
    expect((await waitForRun(app, h(), res.body.runId)).outputs.echo).toEqual({ value: 'x' });
  });

  it('refuses a workflow with validation errors with 422 and the errors', async () => {
    const id = await createWorkflow(app, h(), [add('start', 'trigger_manual'), add('echo', 'transform', {}), connect('start', 'echo')]);
    const res = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: {} });

    expect(res.status).toBe(422);
    expect(res.body.error).toBe('workflow_not_runnable');
    expect(res.body.validation_errors).toEqual([expect.objectContaining({ block_id: 'echo', code: 'required_param_missing' })]);
  });

  it("validates the input against the trigger's input schema", async () => {
    const schema = { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] };
    const id = await createWorkflow(app, h(), [add('start', 'trigger_manual', { inputSchema: schema }), add('echo', 'transform', { template: '{{trigger.n}}' }), connect('start', 'echo')]);

    const bad = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: { input: { n: 'one' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_input');
    expect(bad.body.issues).toEqual([expect.objectContaining({ path: 'n' })]);
    const good = await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: h(), body: { input: { n: 1 } } });
    expect(good.status).toBe(200);
  });

  it('makes idempotency keys per organization: same body → same run, another body → 409', async () => {
    const id = await createWorkflow(app, h(), echo('once'));
    const first = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: { input: { a: 1 }, idempotencyKey: 'k-1' } });
    const again = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: { input: { a: 1 }, idempotencyKey: 'k-1' } });
    const other = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: { input: { a: 2 }, idempotencyKey: 'k-1' } });

    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.runId).toBe(first.body.runId);
    expect(other.status).toBe(409);
    expect(other.body.error).toBe('idempotency_conflict');
    const someoneElse = await signUp(app);
    const theirs = await createWorkflow(app, someoneElse.headers, echo('once'));
    const elsewhere = await app.request('POST', `/api/workflows/${theirs}/runs`, { headers: someoneElse.headers, body: { input: { a: 1 }, idempotencyKey: 'k-1' } });
    expect(elsewhere.status).toBe(202);
    expect(elsewhere.body.runId).not.toBe(first.body.runId);
  });

  it('pins the workflow at run start: later patches and a delete never change the run', async () => {
    const id = await createWorkflow(app, h(), [
      add('start', 'trigger_manual'),
      add('hold', 'wait_for_event', { eventName: 'go' }),
      add('out', 'transform', { template: 'version one' }),
      connect('start', 'hold'),
      connect('hold', 'out'),
    ]);
    const started = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: {} });
    const runId = started.body.runId as string;
    await waitForRun(app, h(), runId, ['waiting']);
    await patchWorkflow(app, h(), id, [{ operation_type: 'update', block_id: 'out', params: { template: 'version two' } }]);
    expect((await app.request('DELETE', `/api/workflows/${id}`, { headers: h() })).status).toBe(204);

    expect((await app.request('POST', `/api/runs/${runId}/signals`, { headers: h(), body: { name: 'go' } })).status).toBe(202);
    const run = await waitForRun(app, h(), runId);
    expect(run.outputs.out).toEqual({ value: 'version one' });
    expect(run.workflowVersion).toBe(started.body.workflowVersion);
  });
});

describe('watching runs', () => {
  it('lists runs by workflow and status with a keyset cursor', async () => {
    const id = await createWorkflow(app, h(), echo('listed'));
    const runIds: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      runIds.push((await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: h(), body: {} })).body.id);
    }
    const page1 = await app.request('GET', `/api/runs?workflowId=${id}&status=completed&limit=2`, { headers: h() });
    expect(page1.status).toBe(200);
    expect(page1.body.data.map((r: { id: string }) => r.id)).toEqual([runIds[2], runIds[1]]);
    expect(page1.body.data[0]).toMatchObject({ workflowId: id, status: 'completed', workflowVersion: 2, error: null });
    const page2 = await app.request('GET', `/api/runs?workflowId=${id}&status=completed&limit=2&after=${page1.body.next}`, { headers: h() });
    expect(page2.body.data.map((r: { id: string }) => r.id)).toEqual([runIds[0]]);
    expect(page2.body.next).toBeNull();
    expect((await app.request('GET', `/api/runs?workflowId=${id}&status=failed`, { headers: h() })).body.data).toEqual([]);
    expect((await app.request('GET', '/api/runs?status=nonsense', { headers: h() })).status).toBe(400);
  });

  it('shows step logs with hidden values as "[hidden]", and never records the secret', async () => {
    expect((await app.request('POST', '/api/secrets', { headers: h(), body: { name: 'SLACK_BOT_TOKEN', value: TOKEN } })).status).toBe(201);
    const id = await createWorkflow(app, h(), [
      add('start', 'trigger_manual'),
      add('say', 'slack_send_message', { channel: '#general', text: 'hi {{trigger.who}}' }),
      connect('start', 'say'),
    ]);
    const run = await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: h(), body: { input: { who: 'bob' } } });
    expect(run.body.status).toBe('completed');
    expect(slackCalls.at(-1)?.authorization).toBe(`Bearer ${TOKEN}`);

    const logs = await waitForLogs(app, h(), run.body.id, 1);
    expect(logs).toEqual([
      expect.objectContaining({
        blockId: 'say',
        blockType: 'slack_send_message',
        attempt: 1,
        status: 'succeeded',
        input: { channel: '#general', text: 'hi bob', botToken: '[hidden]' },
        output: { ok: true, channel: 'C1', ts: '1.2' },
        error: null,
        durationMs: expect.any(Number),
      }),
    ]);
    const events = await app.request('GET', `/api/runs/${run.body.id}/events`, { headers: h() });
    expect(events.text).not.toContain(TOKEN);
    const stored = await app.db.pool.query(`SELECT count(*)::int AS n FROM events WHERE data::text LIKE $1`, [`%${TOKEN}%`]);
    expect(stored.rows[0].n).toBe(0);
    expect(app.logs.join('')).not.toContain(TOKEN);
  });

  it('GET /api/runs/:id?waitMs= answers when the run ends, or as it is when the wait runs out', async () => {
    const id = await createWorkflow(app, h(), [add('start', 'trigger_manual'), add('hold', 'wait_for_event', { eventName: 'go' }), add('out', 'transform', { template: 'after the wait' }), connect('start', 'hold'), connect('hold', 'out')]);
    const runId = (await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: {} })).body.runId as string;
    await waitForRun(app, h(), runId, ['waiting']);

    const ranOut = await app.request('GET', `/api/runs/${runId}?waitMs=200`, { headers: h() });
    expect([ranOut.status, ranOut.body.status]).toEqual([200, 'waiting']);

    // The signal goes out while the read is held: the read answers with the end, not with "waiting".
    const held = app.request('GET', `/api/runs/${runId}?waitMs=20000`, { headers: h() });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await app.request('POST', `/api/runs/${runId}/signals`, { headers: h(), body: { name: 'go' } })).status).toBe(202);
    const ended = await held;
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({ id: runId, status: 'completed', outputs: { out: { value: 'after the wait' } } });
    expect(ended.body).toEqual((await app.request('GET', `/api/runs/${runId}`, { headers: h() })).body);

    // Another organization's run is a 404 at once, never a wait; a bad waitMs is a 400.
    const stranger = await signUp(app);
    const foreign = await app.request('GET', `/api/runs/${runId}?waitMs=20000`, { headers: stranger.headers });
    expect([foreign.status, foreign.body.error]).toEqual([404, 'not_found']);
    for (const waitMs of ['-1', 'soon', '1.5']) {
      const bad = await app.request('GET', `/api/runs/${runId}?waitMs=${waitMs}`, { headers: h() });
      expect([waitMs, bad.status, bad.body.error]).toEqual([waitMs, 400, 'invalid_query']);
    }
  });

  it('pages through the raw event stream', async () => {
    const id = await createWorkflow(app, h(), echo('e'));
    const run = await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: h(), body: {} });
    const first = await app.request('GET', `/api/runs/${run.body.id}/events?limit=2`, { headers: h() });
    expect(first.body.data.map((e: { type: string; version: number }) => [e.version, e.type])).toEqual([
      [1, 'RunStarted'],
      [2, 'StepAttemptStarted'],
    ]);
    const rest = await app.request('GET', `/api/runs/${run.body.id}/events?after=${first.body.next}`, { headers: h() });
    expect(rest.body.data.map((e: { type: string }) => e.type)).toEqual(['StepAttemptSucceeded', 'RunCompleted']);
    expect(rest.body.next).toBeNull();
  });

  it('streams a run as Server-Sent Events until it ends', async () => {
    const id = await createWorkflow(app, h(), [
      add('start', 'trigger_manual'),
      add('nap', 'wait_duration', { durationMs: 300 }),
      add('out', 'transform', { template: 'done' }),
      connect('start', 'nap'),
      connect('nap', 'out'),
    ]);
    const run = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: {} });
    const response = await fetch(`${app.url}/api/runs/${run.body.runId}/stream`, { headers: h() });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const text = await response.text(); // the server closes the stream once the run has ended
    const types = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(types[0]).toBe('RunStarted');
    expect(types).toContain('RunSleeping');
    expect(types.at(-1)).toBe('RunCompleted');
    expect(text).toMatch(/^id: 1$/m);

    // An EventSource reconnects when the stream closes, with the last id it saw: the run has
    // ended and nothing follows, so 204 (which stops its reconnecting) rather than a stream held
    // open forever with heartbeats and nothing to send.
    const last = text.match(/^id: (\d+)$/gm)!.at(-1)!.slice(4);
    const resumed = await fetch(`${app.url}/api/runs/${run.body.runId}/stream`, { headers: { ...h(), 'last-event-id': last }, signal: AbortSignal.timeout(5_000) });
    expect(resumed.status).toBe(204);
    const past = await fetch(`${app.url}/api/runs/${run.body.runId}/stream?after=${Number(last) + 50}`, { headers: h(), signal: AbortSignal.timeout(5_000) });
    expect(past.status).toBe(204);
    // A Last-Event-ID that is no stream version is ignored, as a hostile one must be: from the start.
    for (const hostile of ['1e300', '99999999999', '0x2', '-1', 'abc']) {
      const res = await fetch(`${app.url}/api/runs/${run.body.runId}/stream`, { headers: { ...h(), 'last-event-id': hostile }, signal: AbortSignal.timeout(5_000) });
      const replay = await res.text();
      expect([hostile, res.status, replay.match(/^id: \d+$/m)?.[0]]).toEqual([hostile, 200, 'id: 1']);
    }
  });
});

describe('a run with large events', () => {
  // 40 steps each outputting the 250 KB input: the run's stream is ~20 MB (its end repeats every output).
  let runId: string;
  beforeAll(async () => {
    const ops: unknown[] = [add('start', 'trigger_manual')];
    for (let i = 1; i <= 40; i += 1) ops.push(add(`s${i}`, 'transform', { template: '{{trigger.s}}' }), connect(i === 1 ? 'start' : `s${i - 1}`, `s${i}`));
    const id = await createWorkflow(app, h(), ops);
    const started = await app.request('POST', `/api/workflows/${id}/runs?waitMs=20000`, { headers: h(), body: { input: { s: 'x'.repeat(250_000) } } });
    expect(started.body.status).toBe('completed');
    runId = started.body.id;
  });

  it('is read in pages of at most 4 MiB of events (past the first), which together hold every event', async () => {
    // Before: one page of every event, ~20 MB, read whole into memory and answered at once.
    const versions: number[] = [];
    let after = 0;
    for (;;) {
      const page = await app.request('GET', `/api/runs/${runId}/events?limit=500&after=${after}`, { headers: h() });
      expect(page.status).toBe(200);
      if (page.body.data.length > 1) expect(page.text.length).toBeLessThan(4 * 2 ** 20 + 64 * 1024);
      versions.push(...page.body.data.map((event: { version: number }) => event.version));
      if (page.body.next === null) break;
      after = Number(page.body.next);
    }
    expect(versions.length).toBeGreaterThan(80);
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
  });

  it('is streamed (SSE) to a client that reads nothing holding about one event in memory, not the whole run', async () => {
    // A client that opens the stream and reads nothing made the server buffer all of it past what
    // the kernel holds, per stream.
    const server = (app.running.app as unknown as { getHttpServer(): Server }).getHttpServer();
    const sockets: Socket[] = [];
    const track = (socket: Socket) => sockets.push(socket);
    server.on('connection', track);
    const { hostname, port } = new URL(app.url);
    const client = connectTcp(Number(port), hostname);
    client.pause(); // reads nothing: what the kernel buffers fills, then the server must wait
    client.write(`GET /api/runs/${runId}/stream HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: ${h().authorization}\r\n\r\n`);
    try {
      // Until the server has begun sending the steps' events and has then stopped: what it has
      // written, and what it still holds to write.
      const stream = () => sockets.find((socket) => socket.remotePort === client.localPort);
      const offered = () => (stream()?.bytesWritten ?? 0) + (stream()?.writableLength ?? 0);
      while (offered() < 2 ** 20) await new Promise((resolve) => setTimeout(resolve, 50));
      let last = -1;
      for (let settled = 0; settled < 5; ) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        settled = offered() === last ? settled + 1 : 0;
        last = offered();
      }
      expect(stream()!.writableLength).toBeLessThan(2 * 2 ** 20);
    } finally {
      server.off('connection', track);
      client.destroy();
    }
  });
});

describe('controlling runs', () => {
  const waiting = () => [add('start', 'trigger_manual'), add('hold', 'wait_for_event', { eventName: 'resume', correlationKey: '{{trigger.key}}' }), add('out', 'transform', { template: '{{hold.data}}' }), connect('start', 'hold'), connect('hold', 'out')];

  it('cancels a run (202), then refuses with 409 run_finished', async () => {
    const id = await createWorkflow(app, h(), waiting());
    const run = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: { input: { key: 'c' } } });
    await waitForRun(app, h(), run.body.runId, ['waiting']);

    const cancel = await app.request('POST', `/api/runs/${run.body.runId}/cancel`, { headers: h(), body: {} });
    expect(cancel.status).toBe(202);
    expect(cancel.body).toMatchObject({ runId: run.body.runId, cancelRequested: true });
    expect((await waitForRun(app, h(), run.body.runId)).status).toBe('cancelled');
    const again = await app.request('POST', `/api/runs/${run.body.runId}/cancel`, { headers: h(), body: {} });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('run_finished');
  });

  it('publishes an organization event to the runs waiting on its name and key', async () => {
    const id = await createWorkflow(app, h(), waiting());
    const run = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: { input: { key: 'k-42' } } });
    const view = await waitForRun(app, h(), run.body.runId, ['waiting']);
    expect(view.waitingFor).toEqual({ kind: 'wait_for_event', blockId: 'hold', eventName: 'resume', correlationKey: 'k-42' });

    const miss = await app.request('POST', '/api/events', { headers: h(), body: { name: 'resume', correlationKey: 'other' } });
    expect(miss.status).toBe(202);
    expect(miss.body).toEqual({ eventId: expect.any(String), matchedRuns: 0, startedRuns: [], refusedStarts: [] });
    const hit = await app.request('POST', '/api/events', { headers: h(), body: { name: 'resume', correlationKey: 'k-42', payload: { ok: 1 }, idempotencyKey: 'ev-1' } });
    expect(hit.body).toEqual({ eventId: expect.any(String), matchedRuns: 1, startedRuns: [], refusedStarts: [] });
    const replay = await app.request('POST', '/api/events', { headers: h(), body: { name: 'resume', correlationKey: 'k-42', payload: { ok: 1 }, idempotencyKey: 'ev-1' } });
    expect(replay.body).toMatchObject({ eventId: hit.body.eventId, matchedRuns: 1, duplicate: true });
    expect((await waitForRun(app, h(), run.body.runId)).outputs.out).toEqual({ value: { ok: 1 } });
  });

  it('delivers an organization event run by run when the chunk that holds its runs fails', async () => {
    const id = await createWorkflow(app, h(), waiting());
    const runIds: string[] = [];
    for (let i = 0; i < 3; i += 1) runIds.push((await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: { input: { key: 'chunk' } } })).body.runId);
    for (const runId of runIds) await waitForRun(app, h(), runId, ['waiting']);
    const read = jest.spyOn(app.running.app.get(RunStore), 'loadMany').mockRejectedValueOnce(new Error('the chunk read failed'));
    try {
      const hit = await app.request('POST', '/api/events', { headers: h(), body: { name: 'resume', correlationKey: 'chunk', payload: { via: 'one by one' } } });
      expect(hit.body.matchedRuns).toBe(3);
    } finally {
      read.mockRestore();
    }
    for (const runId of runIds) expect((await waitForRun(app, h(), runId)).outputs.out).toEqual({ value: { via: 'one by one' } });
    expect(app.logs.some((line) => line.includes('an event delivery chunk failed'))).toBe(true);
  });

  it('decides an approval through its public single-use link and records who decided', async () => {
    const id = await createWorkflow(app, h(), [add('start', 'trigger_manual'), add('ask', 'human_approval', { prompt: 'Deploy?' }), add('out', 'transform', { template: '{{ask.approved}}' }), connect('start', 'ask'), connect('ask', 'out')]);
    const run = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: {} });
    const token = (await waitForRun(app, h(), run.body.runId, ['waiting'])).waitingFor.approvalToken as string;

    const shown = await app.request('GET', `/api/approvals/${token}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ prompt: 'Deploy?', status: 'pending', runId: run.body.runId, expiresAt: null });
    const decided = await app.request('POST', `/api/approvals/${token}`, { headers: h(), body: { approved: true, note: 'go' } });
    expect(decided.status).toBe(200);
    expect(decided.body).toEqual({ runId: run.body.runId, status: 'approved', approved: true, by: owner.userId });
    const second = await app.request('POST', `/api/approvals/${token}`, { body: { approved: false } });
    expect(second.status).toBe(409);
    expect(second.body.error).toBe('approval_decided');
    expect((await waitForRun(app, h(), run.body.runId)).outputs.ask).toEqual({ approved: true, by: owner.userId, note: 'go', timedOut: false });
    expect((await app.request('GET', '/api/approvals/no-such-token')).status).toBe(404);
  });

  it('lets a viewer read runs but not start, cancel or signal them', async () => {
    const viewer = await addMember(app, owner, 'viewer');
    const id = await createWorkflow(app, h(), waiting());
    const run = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: { input: { key: 'v' } } });

    expect((await app.request('GET', `/api/runs/${run.body.runId}`, { headers: viewer.headers })).status).toBe(200);
    expect((await app.request('GET', '/api/runs', { headers: viewer.headers })).status).toBe(200);
    expect((await app.request('POST', `/api/workflows/${id}/runs`, { headers: viewer.headers, body: {} })).status).toBe(403);
    expect((await app.request('POST', `/api/runs/${run.body.runId}/cancel`, { headers: viewer.headers, body: {} })).status).toBe(403);
    expect((await app.request('POST', `/api/runs/${run.body.runId}/signals`, { headers: viewer.headers, body: { name: 'x' } })).status).toBe(403);
    expect((await app.request('POST', '/api/events', { headers: viewer.headers, body: { name: 'x' } })).status).toBe(403);
    await app.request('POST', `/api/runs/${run.body.runId}/cancel`, { headers: h(), body: {} });
  });

  it('bounds payloads with clear errors: run input, signal payload and event payload', async () => {
    const big = { blob: 'x'.repeat(300 * 1024) }; // over the 256 KiB run payload limit, under the body limit
    const id = await createWorkflow(app, h(), waiting());
    const input = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: { input: { key: 'b', ...big } } });
    expect(input.status).toBe(413);
    expect(input.body).toMatchObject({ error: 'payload_too_large', message: expect.stringContaining('run input') });

    const run = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: { input: { key: 'b' } } });
    const signal = await app.request('POST', `/api/runs/${run.body.runId}/signals`, { headers: h(), body: { name: 'resume', payload: big } });
    expect(signal.status).toBe(413);
    expect(signal.body.message).toContain('signal payload');
    const event = await app.request('POST', '/api/events', { headers: h(), body: { name: 'resume', payload: big } });
    expect(event.status).toBe(413);
    expect(event.body.message).toContain('event payload');
    await app.request('POST', `/api/runs/${run.body.runId}/cancel`, { headers: h(), body: {} });
  });

  it('fails a step whose params a template multiplies past the payload limit, and the worker lives on', async () => {
    // 9,000 references to one 200 KB input (216 KB of params): 1.8 GB once resolved. Recording
    // them (or serialising the output) exhausted the heap at 20,000: the process died.
    const template = Object.fromEntries(Array.from({ length: 9_000 }, (_, i) => [`k${i}`, '{{trigger.s}}']));
    const id = await createWorkflow(app, h(), [add('start', 'trigger_manual'), add('grow', 'transform', { template }), connect('start', 'grow')]);
    const started = await app.request('POST', `/api/workflows/${id}/runs`, { headers: h(), body: { input: { s: 'x'.repeat(200_000) } } });
    const run = await waitForRun(app, h(), started.body.runId);
    expect(run).toMatchObject({ status: 'failed', error: { code: 'payload_too_large', blockId: 'grow' } });
    expect(run.error.message).toMatch(/^The step's resolved params are at least \d+ bytes; the limit is 262144$/);
    const events = await app.request('GET', `/api/runs/${started.body.runId}/events?limit=100`, { headers: h() });
    const attempt = events.body.data.find((event: { type: string }) => event.type === 'StepAttemptStarted');
    expect(attempt.data.input).toMatch(/^\(not recorded: the resolved params are at least \d+ bytes; the limit is 262144\)$/);
    // Interpolated into one string instead: refused before the text is built (400 MB).
    const text = await createWorkflow(app, h(), [add('start', 'trigger_manual'), add('grow', 'transform', { template: '{{trigger.s}},'.repeat(2_000) }), connect('start', 'grow')]);
    const interpolated = await app.request('POST', `/api/workflows/${text}/runs`, { headers: h(), body: { input: { s: 'x'.repeat(200_000) } } });
    expect(await waitForRun(app, h(), interpolated.body.runId)).toMatchObject({
      status: 'failed',
      error: { code: 'payload_too_large', blockId: 'grow', message: 'The resolved params would hold more than 262144 characters of interpolated text' },
    });
    // The same worker goes on running steps.
    const next = await createWorkflow(app, h(), [add('start', 'trigger_manual'), add('t', 'transform', { template: { ok: true } }), connect('start', 't')]);
    const after = await app.request('POST', `/api/workflows/${next}/runs`, { headers: h(), body: {} });
    expect(await waitForRun(app, h(), after.body.runId)).toMatchObject({ status: 'completed', outputs: { t: { value: { ok: true } } } });
  });
});
