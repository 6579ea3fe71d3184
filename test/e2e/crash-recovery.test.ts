import type { TestDatabase } from '../support/database';
import { killWorker, pauseWorker, spawnWorker, type WorkerProcess } from '../support/run-processes';
import { appendRunStart } from '../support/run-start';
import { block, edge, workflowOf } from '../support/run-workflows';
import { callsOf, createRunTestDatabase, eventTypes, openGate, waitForCalls, waitForStatus, testCatalog } from '../support/run-harness';

// Workers here are real processes (the worker module + test connectors), killed with SIGKILL.
const LEASE = { THODARE_LEASE_MS: '1500' };

let db: TestDatabase;
const workers: WorkerProcess[] = [];
const catalog = () => testCatalog();

beforeAll(async () => {
  db = await createRunTestDatabase('crash');
});
afterEach(async () => {
  // Each test starts from no worker at all: a survivor of the previous one would claim its runs.
  await Promise.all(workers.splice(0).map(killWorker));
});
afterAll(async () => {
  await db?.drop();
});

function spawn(env: Record<string, string> = {}): WorkerProcess {
  const worker = spawnWorker(db, { ...LEASE, ...env });
  workers.push(worker);
  return worker;
}

const gated = (label: string) =>
  workflowOf(
    [
      block('before', 'test_count', { label: `${label}-before`, value: '{{trigger.n}}' }),
      block('gate', 'test_gate', { label }),
      block('after', 'test_count', { label: `${label}-after`, value: '{{before.value}}' }),
    ],
    [edge('trigger', 'before'), edge('before', 'gate'), edge('gate', 'after')],
  );

describe('crash recovery', () => {
  it('a second worker takes over a run whose worker was killed mid-step; completed steps never run again', async () => {
    const first = spawn();
    await first.ready;
    const runId = await appendRunStart(db, catalog(), gated('kill'), { n: 42 });
    await waitForCalls(db.pool, 'kill');
    await killWorker(first);

    const second = spawn();
    await second.ready;
    await openGate(db.pool, 'kill');

    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    const calls = await callsOf(db.pool, runId);
    expect(calls.map((c) => `${c.block_id}:${c.attempt}`)).toEqual(['before:1', 'gate:1', 'gate:1', 'after:1']);
    // The re-executed attempt kept its idempotency key.
    expect(new Set(calls.filter((c) => c.block_id === 'gate').map((c) => c.idempotency_key))).toEqual(new Set([`${runId}:gate:1`]));
    const { rows } = await db.pool.query(
      `SELECT data->'output' AS output FROM events WHERE stream_id = $1 AND type = 'StepAttemptSucceeded' ORDER BY stream_version`,
      [`run-${runId}`],
    );
    expect(rows.map((r) => r.output)).toEqual([{ value: 42 }, { opened: 'kill' }, { value: 42 }]);
    expect((await eventTypes(db.pool, runId)).filter((t) => t === 'StepAttemptSucceeded')).toHaveLength(3);
    const lease = await db.pool.query('SELECT lease_epoch, lease_owner FROM run_state WHERE run_id = $1', [runId]);
    expect(lease.rows[0].lease_epoch).toBeGreaterThanOrEqual(2);
    expect(lease.rows[0].lease_owner).toBeNull();
  });

  it('a paused worker that wakes up after a takeover records nothing (the lease fences it)', async () => {
    const zombie = spawn();
    await zombie.ready;
    const runId = await appendRunStart(db, catalog(), gated('zombie'), { n: 1 });
    await waitForCalls(db.pool, 'zombie');
    await pauseWorker(zombie, db.pool);
    try {
      const rescuer = spawn();
      await rescuer.ready;
      await waitForCalls(db.pool, 'zombie', 2); // the rescuer re-runs the gate after the lease expired
      await openGate(db.pool, 'zombie');
      expect(await waitForStatus(db.pool, runId)).toBe('completed');
    } finally {
      zombie.child.kill('SIGCONT');
    }
    // Give the zombie time to see its gate open and try to record its result.
    await new Promise((r) => setTimeout(r, 1000));
    const { rows } = await db.pool.query<{ block_id: string; n: number }>(
      `SELECT data->>'blockId' AS block_id, count(*)::int AS n FROM events
       WHERE stream_id = $1 AND type = 'StepAttemptSucceeded' GROUP BY 1 ORDER BY 1`,
      [`run-${runId}`],
    );
    expect(rows).toEqual([
      { block_id: 'after', n: 1 },
      { block_id: 'before', n: 1 },
      { block_id: 'gate', n: 1 },
    ]);
    expect(await eventTypes(db.pool, runId)).toContain('RunCompleted');
  });

  it('a durable sleep survives the death of the worker that parked it', async () => {
    const sleeper = spawn();
    await sleeper.ready;
    const wf = workflowOf(
      [block('nap', 'wait_duration', { durationMs: 1500 }), block('after', 'test_count', { label: 'after-nap', value: 'rested' })],
      [edge('trigger', 'nap'), edge('nap', 'after')],
    );
    const runId = await appendRunStart(db, catalog(), wf);
    expect(await waitForStatus(db.pool, runId, ['sleeping'])).toBe('sleeping');
    await killWorker(sleeper); // its in-process timer dies with it; run_state.available_at remains

    const next = spawn();
    await next.ready;
    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    expect((await callsOf(db.pool, runId)).map((c) => c.label)).toEqual(['after-nap']);
    const { rows } = await db.pool.query(
      `SELECT (data->>'at')::timestamptz >= (SELECT (data->>'until')::timestamptz FROM events WHERE stream_id = $1 AND type = 'RunSleeping') AS on_time
       FROM events WHERE stream_id = $1 AND type = 'WaitCompleted'`,
      [`run-${runId}`],
    );
    expect(rows).toEqual([{ on_time: true }]);
  });

  it("a tenant's run whose worker was killed waits for another of its workers: the shared pool leaves it", async () => {
    const tenant = { THODARE_WORKER_ORGANIZATIONS: 'org-crash-tenant' };
    const first = spawn(tenant);
    const pool = spawn({ THODARE_WORKER_EXCLUDED_ORGANIZATIONS: 'org-crash-tenant' });
    await Promise.all([first.ready, pool.ready]);
    const runId = await appendRunStart(db, catalog(), gated('tenant-kill'), { n: 7 }, 'org-crash-tenant');
    await waitForCalls(db.pool, 'tenant-kill');
    await killWorker(first);

    // Its lease freed (the pool frees a dead worker's leases, or it expires), the run is due again;
    // a run of another organization started then is the pool's, and it runs to its end.
    for (let freed = false; !freed; await new Promise((r) => setTimeout(r, 50))) {
      freed = (await db.pool.query('SELECT lease_owner FROM run_state WHERE run_id = $1', [runId])).rows[0].lease_owner === null;
    }
    const other = await appendRunStart(db, catalog(), gated('tenant-kill-other'), { n: 1 }, 'org-crash-other');
    await waitForCalls(db.pool, 'tenant-kill-other');
    await openGate(db.pool, 'tenant-kill-other');
    expect(await waitForStatus(db.pool, other)).toBe('completed');
    expect((await callsOf(db.pool, runId)).map((c) => `${c.block_id}:${c.attempt}`)).toEqual(['before:1', 'gate:1']);

    const second = spawn(tenant);
    await second.ready;
    await openGate(db.pool, 'tenant-kill');
    expect(await waitForStatus(db.pool, runId)).toBe('completed');
    expect((await callsOf(db.pool, runId)).map((c) => `${c.block_id}:${c.attempt}`)).toEqual(['before:1', 'gate:1', 'gate:1', 'after:1']);
  });
});
