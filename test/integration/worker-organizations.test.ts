import type { RunningThodare } from '../../src/main';
import { RunWorker } from '../../src/worker/run-worker.service';
import type { TestDatabase } from '../support/database';
import { block, edge, workflowOf } from '../support/run-workflows';
import { createRunTestDatabase, startRun, startWorkerApp, testCatalog, waitForStatus } from '../support/run-harness';
import { appendRunStart } from '../support/run-start';

// A tenant's own workers (THODARE_WORKER_ORGANIZATIONS) beside the shared pool without that tenant
// (THODARE_WORKER_EXCLUDED_ORGANIZATIONS), on one database: every run is taken by a worker that
// serves its organization, and a run no running worker serves waits in the queue for one.

const TENANT = 'org-tenant';
type Worker = RunningThodare & { logs: string[] };

let db: TestDatabase;
let own: Worker;
let shared: Worker;
const started: Worker[] = [];

const ownWorker = async (env: Record<string, string> = {}, roles?: { api: boolean; worker: boolean }) => {
  const worker = await startWorkerApp(db, { THODARE_WORKER_SLOTS: '4', ...env }, roles);
  started.push(worker);
  return worker;
};

beforeAll(async () => {
  db = await createRunTestDatabase('worker_orgs');
  own = await ownWorker({ THODARE_WORKER_ORGANIZATIONS: TENANT });
  shared = await ownWorker({ THODARE_WORKER_EXCLUDED_ORGANIZATIONS: TENANT });
});
afterAll(async () => {
  await Promise.all(started.map((worker) => worker.close().catch(() => undefined)));
  await db?.drop();
});

const chain = (label: string) =>
  workflowOf(
    [1, 2, 3].map((i) => block(`c${i}`, 'test_count', { label: `${label}-${i}`, value: i })),
    [edge('trigger', 'c1'), edge('c1', 'c2'), edge('c2', 'c3')],
  );

const startInStore = (organizationId: string, count: number) => Promise.all(Array.from({ length: count }, () => appendRunStart(db, testCatalog(), chain(organizationId), {}, organizationId)));

/** A worker's id as its step events carry it (their actor). */
const idOf = (worker: Worker) => `worker:${worker.app.get(RunWorker).owner}`;

/** The workers (by the id their step results carry) that ran the runs' steps. */
async function workersOf(runIds: string[]): Promise<string[]> {
  const { rows } = await db.pool.query<{ owner: string }>(
    `SELECT DISTINCT metadata->'actor'->>'id' AS owner FROM events WHERE stream_id = ANY($1) AND type = 'StepAttemptSucceeded' ORDER BY 1`,
    [runIds.map((id) => `run-${id}`)],
  );
  return rows.map((row) => row.owner);
}

const completed = async (runIds: string[]) => {
  for (const runId of runIds) expect(await waitForStatus(db.pool, runId)).toBe('completed');
};

describe('workers that serve some organizations', () => {
  it("has each run taken by a worker that serves its organization: the tenant's by its own, the others' by the shared pool", async () => {
    const tenant = await startInStore(TENANT, 12);
    const others = [...(await startInStore('org-a', 6)), ...(await startInStore('org-b', 6))];
    await completed([...tenant, ...others]);

    expect(await workersOf(tenant)).toEqual([idOf(own)]);
    expect(await workersOf(others)).toEqual([idOf(shared)]);
  });

  it('leaves a run in the queue while no running worker serves its organization, and its own worker takes it once started', async () => {
    await own.close();
    const waiting = await startInStore(TENANT, 3);
    // Queued after the tenant's: the shared pool claims oldest first, so had it served the tenant
    // it would have begun theirs before it finished these.
    const later = await startInStore('org-b', 3);
    await completed(later);
    const { rows } = await db.pool.query<{ status: string }>('SELECT status FROM run_state WHERE run_id = ANY($1)', [waiting]);
    expect(rows.map((row) => row.status)).toEqual(['queued', 'queued', 'queued']);
    expect(await workersOf(waiting)).toEqual([]);

    own = await ownWorker({ THODARE_WORKER_ORGANIZATIONS: TENANT });
    await completed(waiting);
    expect(await workersOf(waiting)).toEqual([idOf(own)]);
  });

  it('hands a run started in process to its own worker only when that worker serves the organization', async () => {
    const local = await ownWorker({ PORT: '0', HOST: '127.0.0.1', THODARE_WORKER_ORGANIZATIONS: 'org-local' }, { api: true, worker: true });
    const mine = await startRun(local, chain('local'), {}, { organizationId: 'org-local' });
    const theirs = await startRun(local, chain('elsewhere'), {}, { organizationId: 'org-elsewhere' });
    await completed([mine, theirs]);
    expect(await workersOf([mine])).toEqual([idOf(local)]);
    expect(await workersOf([theirs])).toEqual([idOf(shared)]);
  });

  it("shares a tenant's runs between its workers without running a step twice", async () => {
    const second = await ownWorker({ THODARE_WORKER_ORGANIZATIONS: `org-other,${TENANT}` });
    const runs = await startInStore(TENANT, 30);
    await completed(runs);
    const twice = await db.pool.query(
      `SELECT stream_id, data->>'blockId' AS block FROM events WHERE stream_id = ANY($1) AND type = 'StepAttemptSucceeded' GROUP BY 1, 2 HAVING count(*) > 1`,
      [runs.map((id) => `run-${id}`)],
    );
    expect(twice.rows).toEqual([]);
    const calls = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM test_calls WHERE run_id = ANY($1)', [runs]);
    expect(calls.rows[0]!.n).toBe(30 * 3);
    expect(await workersOf(runs)).toEqual([idOf(own), idOf(second)].sort());
  });
});
