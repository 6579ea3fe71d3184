import { CheckpointerService } from '../../src/audit/checkpointer.service';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow } from '../support/run-api';
import { queriesDuring, type SentQuery } from '../support/statements';

// The run path and the read models send pg text, numbers, booleans and NULLs only. pg turns an
// array, a Date or a Buffer into its wire form in JavaScript, through one serializer every
// statement of the process shares: V8 optimises it on the run path's parameters, and each new kind
// reaching it (a run's first timer, the sealer's hashes, a count array) deoptimised it, to be
// compiled again, 4–18 ms of CPU a time in a fresh process; an array's elements are also escaped one
// by one with two regular-expression passes. Before: the run append's event types (an array) and
// a timer's moment (a Date), the sealer's hashes (Buffers) and heads (arrays of numbers and of
// Buffers), the checkpoints (arrays) and the event counts (arrays); the event store's one-stream
// append (a workflow created or patched) sent its event types as an array.

let app: TestApp;
let owner: SignedUp;

beforeAll(async () => {
  app = await startTestApp('statement_parameters');
  // The checkpointer's own passes stop: the one the test asks for below must find the new
  // organization's seals still to sign. A pass of its own a second after the last seal signed
  // them first, and the test's found nothing due (once in a full run on a loaded machine).
  await app.running.app.get(CheckpointerService).onApplicationShutdown();
  owner = await signUp(app);
});
afterAll(() => app?.close());

/**
 * The statements of the run path, of the event store's one-stream append (a call of `append_events`
 * before migration 0035: either form counts) and of the read models that write on every run or pass.
 */
const HOT = /WITH held AS|(?:INSERT INTO |FROM append_)(events|audit_seals|audit_heads|audit_checkpoints|event_counts|analytics_)/;

/** Polls `count` until it gives `expected` (the async read models catch up on their own). */
async function until(count: () => Promise<number>, expected: () => Promise<number>): Promise<void> {
  while ((await count()) !== (await expected())) await new Promise((resolve) => setTimeout(resolve, 25));
}

const one = async () => 1;

const scalar = (value: unknown) => value === null || ['string', 'number', 'boolean'].includes(typeof value);
const kindOf = (value: unknown) => (Buffer.isBuffer(value) ? 'Buffer' : value instanceof Date ? 'Date' : Array.isArray(value) ? 'array' : typeof value);

it("sends the run path's and the read models' statements text, numbers, booleans and NULLs only", async () => {
  const org = owner.organizationId;
  const events = async () => Number((await app.db.pool.query('SELECT count(*) AS n FROM events WHERE organization_id = $1', [org])).rows[0].n);
  const sent: SentQuery[] = await queriesDuring(async () => {
    // A timer (a wait's moment) and steps after it: every kind of run batch the worker writes.
    const id = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual'), add('nap', 'wait_duration', { durationMs: 20 }), add('out', 'transform', { template: 'rested' }), connect('start', 'nap'), connect('nap', 'out')]);
    const run = await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers: owner.headers, body: {} });
    expect(run.body.status).toBe('completed');
    await until(async () => Number((await app.db.pool.query('SELECT count(*) AS n FROM audit_seals WHERE organization_id = $1', [org])).rows[0].n), events);
    await until(async () => Number((await app.db.pool.query('SELECT coalesce(sum(count), 0) AS n FROM event_counts WHERE organization_id = $1', [org])).rows[0].n), events);
    await until(async () => Number((await app.db.pool.query("SELECT count(*) AS n FROM analytics_runs WHERE run_id = $1 AND status = 'completed'", [run.body.id])).rows[0].n), one);
    expect(await app.running.app.get(CheckpointerService).checkpointDue(0)).not.toEqual([]);
  });
  const hot = sent.filter((query) => HOT.test(query.text));
  // Each kind was sent: run batches, the workflow's appends, seals, heads, a checkpoint, counts and analytics.
  expect(new Set(hot.map((query) => HOT.exec(query.text)![1] ?? 'run batch'))).toEqual(new Set(['run batch', 'events', 'audit_seals', 'audit_heads', 'audit_checkpoints', 'event_counts', 'analytics_']));
  const others = hot.flatMap((query) => query.values.filter((value) => !scalar(value)).map((value) => `${kindOf(value)} in ${query.text.trim().slice(0, 40)}`));
  expect(others).toEqual([]);
});
