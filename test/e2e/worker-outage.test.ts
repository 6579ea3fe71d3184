import { readFileSync } from 'node:fs';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres';
import { killWorker, spawnWorker, type WorkerProcess } from '../support/run-processes';
import { appendRunStart } from '../support/run-start';
import { block, edge, workflowOf } from '../support/run-workflows';
import { ensureTestConnectors, waitForCalls, waitForStatus, testCatalog } from '../support/run-harness';

// The database goes away under a worker process that holds runs: stopped for 10 s, or frozen
// (every Postgres process SIGSTOPped: connects and queries hang, as in a partition). Each test
// has a cluster of its own.

let pg: PrivatePostgres;
const workers: WorkerProcess[] = [];
const catalog = () => testCatalog();

beforeEach(async () => {
  pg = await startPrivatePostgres('outage');
  ensureTestConnectors(pg.db.pool); // runs pin the test connectors when they start
});
afterEach(async () => {
  pg.thaw();
  await Promise.all(workers.splice(0).map(killWorker));
  await pg.destroy();
});

function spawn(env: Record<string, string>): WorkerProcess {
  const worker = spawnWorker(pg.db, { THODARE_LOG_LEVEL: 'info', ...env });
  workers.push(worker);
  return worker;
}

/** User + system CPU of a process so far, in ms (Linux `/proc/<pid>/stat`, clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const lines = (worker: WorkerProcess) => worker.output.join('').split('\n').filter(Boolean).length;

const sleepThenCount = (label: string, ms: number) =>
  workflowOf(
    [block('nap', 'test_sleep', { ms, label }), block('after', 'test_count', { label: `${label}-after` })],
    [edge('trigger', 'nap'), edge('nap', 'after')],
  );

describe('the database going away under a worker', () => {
  it('a 10 s stop with 64 runs held: a few log lines, an idle CPU, and every run completes with no step run twice', async () => {
    const worker = spawn({ THODARE_WORKER_SLOTS: '64' });
    await worker.ready;
    // Eight starts at a time: the test's pool has 10 connections and gives up on a checkout after
    // 2 s, and 64 at once queued past that on a loaded CI machine.
    const runs: string[] = [];
    while (runs.length < 64) runs.push(...(await Promise.all(Array.from({ length: 8 }, () => appendRunStart(pg.db, catalog(), sleepThenCount('held', 1_500))))));
    await waitForCalls(pg.db.pool, 'held', 64);

    const linesBefore = lines(worker);
    await pg.stop(); // the steps in flight finish during the outage: their results cannot be recorded
    const cpuBefore = cpuMs(worker.child.pid!);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    expect(worker.child.exitCode).toBeNull(); // it survived the outage
    const cpuDuring = cpuMs(worker.child.pid!) - cpuBefore;
    const linesDuring = lines(worker) - linesBefore;
    await pg.start();

    for (const runId of runs) expect(await waitForStatus(pg.db.pool, runId, ['completed', 'failed', 'cancelled'], 60_000)).toBe('completed');
    console.log(`outage of 10 s: ${linesDuring} log lines, ${cpuDuring} ms of worker CPU`);
    expect(linesDuring).toBeLessThan(100);
    expect(cpuDuring).toBeLessThan(1_000);
    const { rows } = await pg.db.pool.query<{ label: string; n: number }>('SELECT label, count(*)::int AS n FROM test_calls GROUP BY label ORDER BY label');
    expect(rows).toEqual([
      { label: 'held', n: 64 },
      { label: 'held-after', n: 64 },
    ]);
  });

  it('SIGTERM ends by the grace deadline while Postgres does not answer at all', async () => {
    const worker = spawn({ THODARE_SHUTDOWN_GRACE_MS: '3000' });
    await worker.ready;
    await appendRunStart(pg.db, catalog(), sleepThenCount('frozen', 1_000));
    await waitForCalls(pg.db.pool, 'frozen', 1);

    pg.freeze();
    worker.child.kill('SIGTERM');
    const exit = await Promise.race([worker.exited.then((code) => ({ code })), new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 20_000).unref())]);

    expect(exit).not.toBe('hung');
    expect(worker.output.join('')).toContain('SIGTERM: shutting down');
  });
});
