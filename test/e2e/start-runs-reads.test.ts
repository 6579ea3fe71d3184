import { CommandBus } from '@nestjs/cqrs';
import type { PoolClient } from 'pg';
import { AppError } from '../../src/errors';
import { StartRunsCommand } from '../../src/runs/start-runs.command';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow } from '../support/run-api';

// A group of run starts (a scheduler pass, webhook deliveries) reads the workflows it starts on
// the caller's connection, one query at a time: it sent one read per workflow at once, which pg 8
// queues with a deprecation warning and pg 9 refuses.

let app: TestApp;
let other: TestApp;
let owner: SignedUp;

beforeAll(async () => {
  app = await startTestApp('start_runs_reads');
  // The starts go through an instance that has kept no workflow: each needs a read.
  other = await startTestApp('start_runs_reads', {}, { api: true, worker: false }, app.db);
  owner = await signUp(app);
});
afterAll(async () => {
  await other?.close();
  await app?.close();
});

/** `client` with its queries counted: the most it had in flight at once. */
function counted(client: PoolClient): { most: () => number } {
  let inFlight = 0;
  let most = 0;
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  (client as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = async (...args: unknown[]) => {
    inFlight += 1;
    most = Math.max(most, inFlight);
    try {
      return await query(...args);
    } finally {
      inFlight -= 1;
    }
  };
  return { most: () => most };
}

it("reads the workflows of a group's starts one query at a time on the caller's connection, the refused one's too", async () => {
  const runnable = await Promise.all([1, 2, 3].map(() => createWorkflow(app, owner.headers, [add('start', 'trigger_manual'), add('echo', 'transform', { template: 'x' }), connect('start', 'echo')])));
  const broken = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual'), add('bad', 'http_request', {})]);
  const metadata = { actor: { type: 'system' as const, id: 'test' } };
  const starts = [...runnable, broken, runnable[0]!].map((workflowId) => ({ organizationId: owner.organizationId, workflowId, input: {}, metadata }));
  const client = await other.db.pool.connect();
  const queries = counted(client);
  try {
    await client.query('BEGIN');
    const answers = await other.running.app.get(CommandBus).execute(new StartRunsCommand(starts, client));
    await client.query('COMMIT');
    expect(answers.map((answer) => (answer instanceof AppError ? answer.code : 'started'))).toEqual(['started', 'started', 'started', 'workflow_not_runnable', 'started']);
  } finally {
    client.release();
  }
  // Before: the four workflows' reads went out together.
  expect(queries.most()).toBe(1);
});
