import type { RunningThodare } from '../../src/main';
import type { TestDatabase } from '../support/database';
import { block, edge, workflowOf } from '../support/run-workflows';
import { createRunTestDatabase, startRun, startWorkerApp, waitForStatus } from '../support/run-harness';

let db: TestDatabase;
let worker: RunningThodare & { logs: string[] };

beforeAll(async () => {
  db = await createRunTestDatabase('run_lifecycle_logs');
  worker = await startWorkerApp(db, { THODARE_LOG_LEVEL: 'info' });
});
afterAll(async () => {
  await worker?.close();
  await db?.drop();
});

const MARKER = 'payload-marker-5a1c';
const lines = () => worker.logs.flatMap((chunk) => chunk.split('\n')).filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);

it('logs one line when a run starts and one when it ends, without payloads', async () => {
  const workflow = workflowOf([block('echo', 'transform', { template: '{{trigger.secret}}' })], [edge('trigger', 'echo')]);
  const runIds: string[] = [];
  for (let i = 0; i < 3; i++) runIds.push(await startRun(worker, workflow, { secret: MARKER }, { workflowId: 'wf-logged' }));
  for (const runId of runIds) await waitForStatus(db.pool, runId);
  await new Promise((r) => setTimeout(r, 200)); // the end line is written right after the commit

  for (const runId of runIds) {
    const started = lines().filter((line) => line.runId === runId && line.msg === 'run started');
    const ended = lines().filter((line) => line.runId === runId && line.msg === 'run ended');
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ level: 30, workflowId: 'wf-logged', status: expect.any(String) });
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ level: 30, workflowId: 'wf-logged', status: 'completed', durationMs: expect.any(Number) });
  }
  expect(worker.logs.join('')).not.toContain(MARKER);
});
