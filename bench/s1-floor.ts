import type { Pool } from 'pg';
import { createRunDecider } from '../src/domain/run/run.decider';
import type { RunEvent } from '../src/domain/run/run.events';
import type { RunState } from '../src/domain/run/run.state';
import { appendRunBatch, runAppendItem, type Item } from '../src/run-queue/run-append';
import { resolveRunDefinitions } from '../src/run-queue/run-definitions';
import { DECIDE_AHEAD_MS } from '../src/worker/active-run';
import { WakeTimer } from '../src/worker/wake-timer';
import { percentile, round, siblingSchema, type BenchDatabase } from './support';

/**
 * The database's floor under issue 14's S1 figure (a step, a 1 s durable sleep, a step; the
 * start call to the end seen, less 1 s). Two commits lie on that path, each one required:
 *  - the start, with the first step's start: the run is durable before its id is answered, and a
 *    step that is not pure starts only once its start is recorded (a crash then owes the attempt);
 *  - the end: the run is durable before anyone is told it ended.
 * The first step's result and the sleep's start commit inside the sleep, and so does the wake
 * (the sleep's end and the second step's start, which must be recorded before that step runs):
 * the worker decides it `DECIDE_AHEAD_MS` before its moment, as of the moment (`ActiveRun`).
 *
 * This replays a real S1 run's own batches — the same statement (`APPEND_ONE`), the same events
 * and `run_state` rows, one connection — into a sibling schema with no application code between
 * them: the folds and items are built before the clock starts. Timers sleep the second, as any
 * engine's must, readying the connection just before the wake and the end as the worker does
 * (`WakeTimer`). What it measures is what the database and timers alone cost this machine on
 * that path; the application's own time comes on top (docs/benchmark-history.md).
 */
export async function s1Floor(db: BenchDatabase, appPool: Pool, runId: string, samples: number): Promise<Record<string, unknown>> {
  const batches = await batchesOf(appPool, runId);
  if (batches.length !== 4) throw new Error(`an S1 run commits 4 batches, ${runId} committed ${batches.length}`);
  const floor = await siblingSchema(db);
  const pool = floor.pool(1);
  try {
    await pool.query('CREATE TABLE s1_floor_rows (id bigserial PRIMARY KEY, payload jsonb NOT NULL)');
    const ours: PathTimes[] = [];
    const oneRow: PathTimes[] = [];
    // One path of each first, untimed: the connection plans its statements once, as a worker's has.
    // The two kinds alternate, so a slow stretch of the machine falls on both.
    for (let i = -1; i < samples; i += 1) {
      const items = itemsOf(batches, runId, `floor-${i}-${Date.now()}`);
      const rows = await timePath(pool, (k) => appendRunBatch(pool, items[k]!, 'thodare_s1_floor'));
      const minimal = await timePath(pool, () => pool.query('INSERT INTO s1_floor_rows (payload) VALUES ($1)', ['{"n":1}']));
      if (i < 0) continue;
      ours.push(rows);
      oneRow.push(minimal);
    }
    return {
      samples,
      ourRows: summary(ours),
      oneRowCommits: summary(oneRow),
      what:
        'the S1 path with nothing but its commits and timers (the wake committed ahead, as the worker does): ourRows replays a real S1 run’s batches (the same statement and rows), oneRowCommits puts a one-row insert in each place (the least any durable engine commits); totalMinus1s, and each timed commit',
    };
  } finally {
    await floor.close();
  }
}

/** One path's times (ms): total less the second, and its three timed commits (the wake's off the path). */
interface PathTimes {
  total: number;
  start: number;
  wake: number;
  end: number;
}

/**
 * `commit(k)` for the path's four commits: the start (timed), the first step's result with the
 * sleep's start (inside the sleep, so off the path, as in a real run), the wake `DECIDE_AHEAD_MS`
 * before the second is over (inside it too), and the end once it is.
 */
async function timePath(pool: Pool, commit: (k: number) => Promise<unknown>): Promise<PathTimes> {
  const ready = () => void pool.query('SELECT 1').catch(() => undefined);
  const began = performance.now();
  await commit(0);
  const sleepFrom = performance.now();
  await commit(1);
  // Rounded up: a moment in whole ms that came before the second was over would flatter the floor.
  const moment = new Date(Math.ceil(Date.now() + Math.max(0, sleepFrom + 1000 - performance.now())));
  await new Promise<void>((resolve) => new WakeTimer(ready).set(moment, resolve, DECIDE_AHEAD_MS));
  const waking = performance.now();
  await commit(2);
  const woke = performance.now();
  await new Promise<void>((resolve) => new WakeTimer(ready).set(moment, resolve));
  const awake = performance.now();
  await commit(3);
  const ended = performance.now();
  return { total: ended - began - 1000, start: sleepFrom - began, wake: woke - waking, end: ended - awake };
}

function summary(paths: readonly PathTimes[]): Record<string, unknown> {
  const p50 = (pick: (t: PathTimes) => number) => round(percentile(paths.map(pick).sort((a, b) => a - b), 50), 2);
  return {
    totalMinus1sMs: { p50: p50((t) => t.total), all: paths.map((t) => round(t.total, 2)) },
    commitMsP50: { start: p50((t) => t.start), wakeAhead: p50((t) => t.wake), end: p50((t) => t.end), onThePath: p50((t) => t.start + t.end) },
  };
}

interface StoredBatch {
  /** As stored (a start names its definition), and as folded (the definition resolved). */
  events: { type: string; data: unknown }[];
  folded: { type: string; data: unknown }[];
  metadata: unknown;
}

/** The run's events as committed, one batch per transaction, in order. */
async function batchesOf(pool: Pool, runId: string): Promise<StoredBatch[]> {
  const { rows } = await pool.query<{ transaction_id: string; type: string; data: unknown; metadata: unknown }>(
    'SELECT transaction_id::text AS transaction_id, type, data, metadata FROM events WHERE stream_id = $1 ORDER BY stream_version',
    [`run-${runId}`],
  );
  const folded = await resolveRunDefinitions(pool, rows);
  const batches: (StoredBatch & { transaction: string })[] = [];
  rows.forEach((row, i) => {
    const last = batches.at(-1);
    const batch = last?.transaction === row.transaction_id ? last : { transaction: row.transaction_id, metadata: row.metadata, events: [], folded: [] };
    if (batch !== last) batches.push(batch);
    batch.events.push({ type: row.type, data: row.data });
    batch.folded.push({ type: folded[i]!.type, data: folded[i]!.data });
  });
  return batches;
}

/**
 * The batches as a new run `to` writes them: the start with a lease, the others fenced by it, the
 * end announced. Folded here (its definition resolved from the store it was read from), so no
 * fold is left for the clock.
 */
function itemsOf(batches: readonly StoredBatch[], from: string, to: string): Item[] {
  const renamed = JSON.parse(JSON.stringify(batches).replaceAll(from, to)) as StoredBatch[];
  const decider = createRunDecider();
  let state: RunState | undefined;
  let version = 0;
  return renamed.map((batch, i) => {
    const events = batch.events as RunEvent[];
    state = decider.fold(batch.folded as RunEvent[], state);
    const expected = version;
    version += events.length;
    const metadata = batch.metadata as Parameters<typeof runAppendItem>[3]['metadata'];
    if (i === 0) return runAppendItem(state, expected, events, { metadata, lease: { owner: 'floor', ms: 60_000 } });
    return runAppendItem(state, expected, events, { metadata, fence: { owner: 'floor', epoch: 1 }, notify: i === batches.length - 1 });
  });
}
