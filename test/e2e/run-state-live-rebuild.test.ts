import type { RunningThodare } from '../../src/main';
import { runCli } from '../support/cli';
import type { TestDatabase } from '../support/database';
import { createRunTestDatabase, openGate, startRun, startWorkerApp, waitForCalls, waitForStatus, testCatalog } from '../support/run-harness';
import { appendRunStart } from '../support/run-start';
import { cloneFinishedRun, startLockProbe } from '../support/run-state-load';
import { block, edge, transformChain, workflowOf } from '../support/run-workflows';

// `thodare projections rebuild run_state` on a live system: two workers run steps (some held in
// flight by a gate, some started all along) while the CLI rebuilds the queue table they use.
// Runs are started as an API process would (RunStarted + NOTIFY) and reach the workers by claims.

let db: TestDatabase;
let workers: Array<RunningThodare & { logs: string[] }> = [];

beforeAll(async () => {
  db = await createRunTestDatabase('run_state_live_rebuild');
  workers = [await startWorkerApp(db), await startWorkerApp(db)];
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await db?.drop();
});

// Copies of a finished 8-step run (about 23 events each): a replay of some 2,300 events, several
// of the rebuild's 1,000-event pages, while runs keep starting and finishing.
const HISTORY = 100;
const gated = workflowOf(
  [block('gate', 'test_gate', { label: 'rebuild-gate' }), block('after', 'test_count', { label: 'after-gate' })],
  [edge('trigger', 'gate'), edge('gate', 'after')],
);
const churn = workflowOf(
  [block('first', 'test_count', { label: 'churn' }), block('nap', 'test_sleep', { ms: 50 }), block('second', 'test_count', { label: 'churn' })],
  [edge('trigger', 'first'), edge('first', 'nap'), edge('nap', 'second')],
);

const rebuildOnce = () => runCli(['projections', 'rebuild', 'run_state'], { DATABASE_URL: db.url, THODARE_SCHEMA: db.schema }, 180_000);

/**
 * The rebuild, tried again (as its message asks) while it refuses because an old transaction holds
 * back the horizon: the horizon is the whole cluster's, and the test files running beside this one
 * share the cluster, so another file's long transaction (hot-path-plans keeps one open while it
 * stores thousands of runs) can hold it back for seconds. Any other outcome is returned at once.
 */
async function rebuild(): Promise<Awaited<ReturnType<typeof rebuildOnce>>> {
  for (let attempt = 1; ; attempt += 1) {
    const result = await rebuildOnce();
    if (result.code === 0 || !result.stderr.includes('wait behind an old open transaction') || attempt === 10) return result;
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

const catalog = () => testCatalog();

/** Starts a run every few milliseconds until stopped; returns their ids. */
function keepStartingRuns(): { stop(): Promise<string[]> } {
  const ids: string[] = [];
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      ids.push(await appendRunStart(db, catalog(), churn));
      await new Promise((r) => setTimeout(r, 30));
    }
  })();
  return { stop: async () => ((stopping = true), await loop, ids) };
}

async function leasesOf(runIds: string[]) {
  const { rows } = await db.pool.query(
    'SELECT run_id, lease_owner, lease_epoch, lease_until IS NOT NULL AS leased FROM run_state WHERE run_id = ANY($1) ORDER BY run_id',
    [runIds],
  );
  return rows;
}

/** Every row as Postgres prints it: microseconds, jsonb and NULLs included. */
async function liveTable(): Promise<string[]> {
  const { rows } = await db.pool.query<{ row: string }>('SELECT r::text AS row FROM run_state r ORDER BY run_id');
  return rows.map((r) => r.row);
}

describe('rebuilding run_state while runs execute', () => {
  it('blocks no writer, keeps leases and epochs, runs no step twice, and equals the live table column by column', async () => {
    const template = await startRun(workers[0]!, transformChain(8), { n: 1 });
    await waitForStatus(db.pool, template);
    await cloneFinishedRun(db.pool, template, HISTORY);

    const held: string[] = [];
    for (let i = 0; i < 4; i += 1) held.push(await appendRunStart(db, catalog(), gated));
    await waitForCalls(db.pool, 'rebuild-gate', held.length);
    const leases = await leasesOf(held);
    expect(leases.map((l) => [l.leased, l.lease_epoch > 0])).toEqual(held.map(() => [true, true]));

    const starter = keepStartingRuns();
    const probe = startLockProbe(db, template);
    const rebuilt = await rebuild();
    const probed = await probe.stop();
    const started = await starter.stop();

    expect({ code: rebuilt.code, stderr: rebuilt.stderr }).toEqual({ code: 0, stderr: '' });
    expect(probed.errors).toEqual([]);
    expect(probed.duringReplay).toBeGreaterThan(0);
    expect(await leasesOf(held)).toEqual(leases);
    // Under load the replay matched every live row: the swap had nothing to rewrite.
    expect(rebuilt.stdout).toContain('swapped in live: 0 rows updated, 0 inserted, 0 deleted');

    await openGate(db.pool, 'rebuild-gate');
    for (const runId of [...held, ...started]) await waitForStatus(db.pool, runId, ['completed']);
    const repeated = await db.pool.query('SELECT idempotency_key, count(*)::int AS calls FROM test_calls GROUP BY 1 HAVING count(*) > 1');
    expect(repeated.rows).toEqual([]);
    const calls = await db.pool.query<{ label: string; n: number }>('SELECT label, count(*)::int AS n FROM test_calls GROUP BY 1 ORDER BY 1');
    expect(calls.rows).toEqual([
      { label: 'after-gate', n: held.length },
      { label: 'churn', n: 2 * started.length },
      { label: 'rebuild-gate', n: held.length },
      { label: null, n: started.length }, // test_sleep
    ]);

    // Quiet now: a second rebuild must reproduce the live table exactly, leases and epochs included.
    const live = await liveTable();
    const { rows: precise } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM run_state WHERE date_part('microseconds', updated_at)::int % 1000 <> 0`);
    expect(precise[0]!.n).toBeGreaterThan(0); // the comparison below does see microseconds
    const again = await rebuild();
    expect(again.stdout).toContain(`rebuilt run_state from`);
    expect(again.stdout).toContain('swapped in live: 0 rows updated, 0 inserted, 0 deleted');
    expect(await liveTable()).toEqual(live);
  }, 240_000);
});
