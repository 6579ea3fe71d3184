import type { RunningThodare } from '../../src/main';
import type { TestDatabase } from '../support/database';
import { block, edge, fanOut, workflowOf } from '../support/run-workflows';
import { createRunTestDatabase, startWorkerApp, waitForStatus, testCatalog } from '../support/run-harness';
import { appendRunStart } from '../support/run-start';

let db: TestDatabase;
let workers: Array<RunningThodare & { logs: string[] }> = [];

beforeAll(async () => {
  db = await createRunTestDatabase('worker_race');
  // Two workers on one database, few slots each so both must take part.
  workers = [await startWorkerApp(db, { THODARE_WORKER_SLOTS: '4' }), await startWorkerApp(db, { THODARE_WORKER_SLOTS: '4' })];
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await db?.drop();
});

const chainOfCounts = (n: number) => {
  const blocks = Array.from({ length: n }, (_, i) => block(`c${i + 1}`, 'test_count', { label: `race-c${i + 1}`, value: i + 1 }));
  const edges = blocks.map((b, i) => edge(i === 0 ? 'trigger' : `c${i}`, b.id));
  return workflowOf(blocks, edges);
};

describe('workers racing on the same runs', () => {
  it('share the work and never record or execute a step twice', async () => {
    // Started straight into the store (no in-process hand-off): every run goes through the claim race.
    const catalog = testCatalog();
    const runIds = await Promise.all([
      ...Array.from({ length: 30 }, () => appendRunStart(db, catalog, chainOfCounts(5))),
      ...Array.from({ length: 10 }, () => appendRunStart(db, catalog, fanOut(6, 'test_count', (b) => ({ label: `race-fan-${b}` })))),
    ]);
    for (const runId of runIds) expect(await waitForStatus(db.pool, runId)).toBe('completed');

    const recorded = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM events WHERE stream_id = ANY($1) AND type = 'StepAttemptSucceeded'
       GROUP BY stream_id, data->>'blockId' HAVING count(*) > 1`,
      [runIds.map((id) => `run-${id}`)],
    );
    expect(recorded.rows).toEqual([]);
    const executed = await db.pool.query<{ run_id: string; block_id: string; n: number }>(
      `SELECT run_id, block_id, count(*)::int AS n FROM test_calls WHERE run_id = ANY($1) GROUP BY 1, 2 HAVING count(*) > 1`,
      [runIds],
    );
    expect(executed.rows).toEqual([]);
    const total = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM test_calls WHERE run_id = ANY($1)', [runIds]);
    expect(total.rows[0]!.n).toBe(30 * 5 + 10 * 6);
    // Both workers took part.
    const owners = await db.pool.query<{ n: number }>(
      `SELECT count(DISTINCT metadata->'actor'->>'id')::int AS n FROM events WHERE stream_id = ANY($1) AND type = 'StepAttemptSucceeded'`,
      [runIds.map((id) => `run-${id}`)],
    );
    expect(owners.rows[0]!.n).toBe(2);
  });
});
