import type { RunningThodare } from '../../src/main';
import type { TestDatabase } from '../support/database';
import { createRunTestDatabase, startRun, startWorkerApp, waitForStatus } from '../support/run-harness';
import { block, edge, workflowOf } from '../support/run-workflows';

// A worker holds at most THODARE_WORKER_SLOTS runs, however they reach it: claim passes, timer
// claims and runs handed over at their start, all at once.

const SLOTS = 4;
let db: TestDatabase;
let worker: RunningThodare;

beforeAll(async () => {
  db = await createRunTestDatabase('slots');
  worker = await startWorkerApp(db, { THODARE_WORKER_SLOTS: String(SLOTS), THODARE_POLL_INTERVAL_MS: '20' });
});
afterAll(async () => {
  await worker?.close();
  await db?.drop();
});

it('never holds more runs than slots under a burst of starts', async () => {
  let sampling = true;
  let most = 0;
  const sampler = (async () => {
    while (sampling) {
      const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM run_state WHERE lease_owner IS NOT NULL AND lease_until > now()');
      most = Math.max(most, rows[0]!.n);
    }
  })();
  const wf = workflowOf(
    [block('nap', 'test_sleep', { ms: 30 }), block('wait', 'wait_duration', { durationMs: 20 }), block('again', 'test_sleep', { ms: 30 })],
    [edge('trigger', 'nap'), edge('nap', 'wait'), edge('wait', 'again')],
  );
  const runs: string[] = [];
  for (let wave = 0; wave < 6; wave += 1) {
    runs.push(...(await Promise.all(Array.from({ length: 20 }, () => startRun(worker, wf)))));
  }
  for (const runId of runs) expect(await waitForStatus(db.pool, runId, ['completed', 'failed'], 60_000)).toBe('completed');
  sampling = false;
  await sampler;

  expect(most).toBeGreaterThan(0);
  expect(most).toBeLessThanOrEqual(SLOTS);
});
