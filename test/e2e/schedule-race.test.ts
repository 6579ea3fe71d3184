import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, createWorkflow } from '../support/run-api';
import { killWorker, spawnWorker, type WorkerProcess } from '../support/run-processes';

// Exactly once under racing schedulers: three worker processes (each runs the scheduler loop on
// the real clock) and 50 concurrent `POST /api/admin/tick` calls over the same per-second ticks;
// and a scheduler killed with SIGKILL in the middle of a tick's transaction.

let app: TestApp;
let owner: SignedUp;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  app = await startTestApp('schedule_race', {}, { api: true, worker: false });
  owner = await signUp(app);
});
afterAll(async () => {
  await Promise.all(workers.map(killWorker));
  await app?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function everySecond(workflowId: string): Promise<string> {
  const res = await app.request('POST', '/api/schedules', { headers: owner.headers, body: { workflowId, cron: '* * * * * *', overlap: 'allow', catchupWindowSec: 3600 } });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/** Runs started per (schedule, tick), from the store itself. */
async function runsPerTick(scheduleIds: string[]): Promise<Map<string, number>> {
  const { rows } = await app.db.pool.query<{ key: string; runs: number }>(
    `SELECT (data->'input'->>'scheduleId') || '@' || (data->'input'->>'scheduledAt') AS key, count(*)::int AS runs
     FROM events WHERE type = 'RunStarted' AND data->'input'->>'scheduleId' = ANY($1) GROUP BY 1`,
    [scheduleIds],
  );
  return new Map(rows.map((row) => [row.key, row.runs]));
}

/** The ticks the ledgers say fired, as `schedule@tick`. */
async function firedTicks(scheduleIds: string[]): Promise<string[]> {
  const fired: string[] = [];
  for (const id of scheduleIds) {
    const res = await app.request('GET', `/api/schedules/${id}/ticks?limit=500`, { headers: owner.headers });
    for (const entry of res.body.data) if (entry.outcome === 'fired') fired.push(`${id}@${entry.tick}`);
  }
  return fired;
}

async function stop(scheduleIds: string[]): Promise<void> {
  for (const id of scheduleIds) await app.request('PATCH', `/api/schedules/${id}`, { headers: owner.headers, body: { paused: true } });
}

describe('racing schedulers', () => {
  it('three scheduler processes and 50 concurrent admin ticks fire each (schedule, tick) exactly once', async () => {
    const workflowId = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual')]);
    const scheduleIds: string[] = [];
    for (let i = 0; i < 10; i += 1) scheduleIds.push(await everySecond(workflowId));
    const started = Date.now();
    for (let i = 0; i < 3; i += 1) workers.push(spawnWorker(app.db));
    await Promise.all(workers.map((w) => w.ready));
    // Two bursts of 50 concurrent passes while the three loops fire the same ticks.
    for (const delay of [1200, 1200]) {
      await sleep(delay);
      const passes = await Promise.all(Array.from({ length: 50 }, () => app.request('POST', '/api/admin/tick', { headers: owner.headers, body: {} })));
      expect(passes.map((p) => p.status)).toEqual(Array.from({ length: 50 }, () => 200));
    }
    await stop(scheduleIds);
    await Promise.all(workers.splice(0).map(killWorker));

    const perTick = await runsPerTick(scheduleIds);
    const fired = await firedTicks(scheduleIds);
    expect([...perTick.values()].filter((n) => n !== 1)).toEqual([]);
    expect(new Set(perTick.keys())).toEqual(new Set(fired));
    expect(fired.length).toBe(new Set(fired).size);
    // Every second from creation to the pause fired (allow, catch-up of an hour): no tick lost either.
    const elapsedSeconds = Math.floor((Date.now() - started) / 1000);
    for (const id of scheduleIds) {
      const ticks = fired.filter((f) => f.startsWith(`${id}@`)).map((f) => Date.parse(f.slice(id.length + 1))).sort((a, b) => a - b);
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < ticks.length; i += 1) expect(ticks[i]! - ticks[i - 1]!).toBe(1000);
      expect(ticks.length).toBeLessThanOrEqual(elapsedSeconds + 2);
    }
  });

  it('a scheduler killed between claiming a tick and recording its run leaves exactly one run for that tick', async () => {
    const workflowId = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual')]);
    const scheduleId = await everySecond(workflowId);
    // Hold every append: the first scheduler locks the schedule row and claims the tick's
    // idempotency key, then blocks before its run and ScheduleFired are written.
    const blocker = await app.db.pool.connect();
    let doomed: WorkerProcess | undefined;
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE events IN EXCLUSIVE MODE');
      doomed = spawnWorker(app.db);
      workers.push(doomed);
      await doomed.ready;
      for (;;) {
        const { rows } = await app.db.pool.query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM pg_locks WHERE NOT granted AND relation = '"${app.db.schema}".events'::regclass`,
        );
        if (rows[0]!.waiting > 0) break;
        await sleep(20);
      }
      const { rows: claimed } = await app.db.pool.query<{ key: string }>("SELECT key FROM idempotency_keys WHERE key LIKE $1", [`sched:${scheduleId}:%`]);
      expect(claimed).toEqual([]); // not committed: invisible to everyone else
      await killWorker(doomed);
    } finally {
      await blocker.query('COMMIT');
      blocker.release();
    }
    // Another scheduler takes over the same ticks: its first pass fires every tick due since the
    // schedule's creation (the one the killed scheduler held among them); wait until it has fired
    // two, then pause.
    const survivor = spawnWorker(app.db);
    workers.push(survivor);
    await survivor.ready;
    for (const until = Date.now() + 30_000; (await firedTicks([scheduleId])).length < 2; await sleep(50)) {
      if (Date.now() > until) throw new Error('the surviving scheduler fired fewer than two ticks in 30 s');
    }
    await stop([scheduleId]);
    await Promise.all(workers.splice(0).map(killWorker));

    const perTick = await runsPerTick([scheduleId]);
    const fired = await firedTicks([scheduleId]);
    expect([...perTick.values()].filter((n) => n !== 1)).toEqual([]);
    expect(new Set(perTick.keys())).toEqual(new Set(fired));
    const ticks = fired.map((f) => Date.parse(f.slice(scheduleId.length + 1))).sort((a, b) => a - b);
    // The tick the killed scheduler held fired once, by the survivor: the ledger starts right after creation, without a gap.
    const { rows } = await app.db.pool.query<{ created_at: Date }>('SELECT created_at FROM schedules WHERE schedule_id = $1', [scheduleId]);
    expect(ticks[0]).toBe(Math.floor(rows[0]!.created_at.getTime() / 1000) * 1000 + 1000);
    for (let i = 1; i < ticks.length; i += 1) expect(ticks[i]! - ticks[i - 1]!).toBe(1000);
  });
});
