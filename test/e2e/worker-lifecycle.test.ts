import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestDatabase } from '../support/database';
import { runCli } from '../support/cli';
import { killWorker, spawnWorker, type WorkerProcess } from '../support/run-processes';
import { appendRunStart } from '../support/run-start';
import { block, edge, workflowOf } from '../support/run-workflows';
import { callsOf, createRunTestDatabase, openGate, waitForCalls, waitForStatus, testCatalog } from '../support/run-harness';

// Worker processes come and go: a deploy (SIGTERM), a crash (SIGKILL), a deploy that changed a
// connector. Real processes, the default lease (30 s) unless said otherwise.

let db: TestDatabase;
const workers: WorkerProcess[] = [];
const catalog = () => testCatalog();

beforeAll(async () => {
  db = await createRunTestDatabase('lifecycle');
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map(killWorker));
});
afterAll(async () => {
  await db?.drop();
});

function spawn(env: Record<string, string> = {}): WorkerProcess {
  const worker = spawnWorker(db, env);
  workers.push(worker);
  return worker;
}

/** A server that answers every request after `delayMs` and counts requests per path. */
async function slowServer(delayMs: number): Promise<{ server: Server; url: string; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server = createServer((request, response) => {
    hits.set(request.url ?? '', (hits.get(request.url ?? '') ?? 0) + 1);
    setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

describe('worker lifecycle', () => {
  it('SIGTERM lets the steps in flight finish and records them: a deploy repeats no side effect', async () => {
    const remote = await slowServer(1_500);
    try {
      const env = { THODARE_HTTP_ALLOW: '127.0.0.1', THODARE_WORKER_SLOTS: '64' };
      const first = spawn(env);
      await first.ready;
      const wf = workflowOf(
        [block('call', 'http_request', { url: `${remote.url}/step/{{trigger.n}}` }), block('after', 'test_count', { label: 'deploy-after' })],
        [edge('trigger', 'call'), edge('call', 'after')],
      );
      const runs = await Promise.all(Array.from({ length: 64 }, (_, n) => appendRunStart(db, catalog(), wf, { n })));
      while ([...remote.hits.values()].length < 64) await new Promise((r) => setTimeout(r, 20));

      first.child.kill('SIGTERM'); // every call is in flight
      expect(await first.exited).toBe(0);
      const second = spawn(env);
      await second.ready;

      for (const runId of runs) expect(await waitForStatus(db.pool, runId)).toBe('completed');
      expect([...remote.hits.values()]).toEqual(Array.from({ length: 64 }, () => 1));
      await waitForCalls(db.pool, 'deploy-after', 64);
    } finally {
      remote.server.close();
    }
  });

  it('a worker that dies is taken over before its leases would have expired', async () => {
    const doomed = spawn();
    await doomed.ready;
    const runId = await appendRunStart(db, catalog(), workflowOf([block('gate', 'test_gate', { label: 'takeover' })], [edge('trigger', 'gate')]));
    await waitForCalls(db.pool, 'takeover');
    const rescuer = spawn();
    await rescuer.ready;
    const { rows: [held] } = await db.pool.query<{ lease_until: Date }>('SELECT lease_until FROM run_state WHERE run_id = $1', [runId]);

    await killWorker(doomed);
    await waitForCalls(db.pool, 'takeover', 2, 45_000);
    await openGate(db.pool, 'takeover');

    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    const { rows: [retaken] } = await db.pool.query<{ at: Date }>(`SELECT max(at) AS at FROM test_calls WHERE label = 'takeover'`);
    expect(retaken!.at.getTime()).toBeLessThan(held!.lease_until.getTime());
  });

  it('replays a run by the policy pinned at its start, whatever the worker that takes it over has deployed', async () => {
    const first = spawn();
    await first.ready;
    const wf = workflowOf(
      [block('gate', 'test_gate', { label: 'pinned' }), block('fail', 'test_fail', { code: 'nope' })],
      [edge('trigger', 'gate'), edge('gate', 'fail')],
    );
    const runId = await appendRunStart(db, catalog(), wf); // pins test_fail's 2 attempts
    await waitForCalls(db.pool, 'pinned');
    await killWorker(first);
    const redeployed = spawn({ TEST_FAIL_MAX_ATTEMPTS: '5' });
    await redeployed.ready;
    await openGate(db.pool, 'pinned');

    expect(await waitForStatus(db.pool, runId)).toBe('failed');
    expect((await callsOf(db.pool, runId)).filter((c) => c.connector === 'test_fail').map((c) => c.attempt)).toEqual([1, 2]);

    // A rebuild by a process that has none of the test connectors gives the same table.
    await Promise.all(workers.splice(0).map(killWorker));
    const live = async () => (await db.pool.query('SELECT run_id, status, stream_version, error, waiting_for, started_at, ended_at FROM run_state ORDER BY run_id')).rows;
    const before = await live();
    const rebuilt = await runCli(['projections', 'rebuild', 'run_state'], { DATABASE_URL: db.url, THODARE_SCHEMA: db.schema });
    expect(rebuilt.code).toBe(0);
    expect(await live()).toEqual(before);
  });
  it('lets the process of an application that closes it end: a drain that finishes early leaves no timer running to its deadline', async () => {
    // 120 s of grace: the drain's deadline is 118 s away when the step in flight ends in 300 ms.
    const worker = spawn({ TEST_CLOSE_ON_SIGTERM: '1', THODARE_SHUTDOWN_GRACE_MS: '120000' });
    await worker.ready;
    await appendRunStart(db, catalog(), workflowOf([block('nap', 'test_sleep', { ms: 300, label: 'close-drain' })], [edge('trigger', 'nap')]));
    await waitForCalls(db.pool, 'close-drain'); // in flight: the close drains it
    worker.child.kill('SIGTERM');
    while (!worker.output.join('').includes('closed')) await new Promise((resolve) => setTimeout(resolve, 20));

    // Closed, with its own pool ended too: nothing of the application is left to hold the process.
    let timer: NodeJS.Timeout | undefined;
    const stillRunning = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still running 20 s after close()'), 20_000)));
    expect(await Promise.race([worker.exited, stillRunning]).finally(() => clearTimeout(timer))).toBe(0);
  });
});
