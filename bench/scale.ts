import { CommandBus } from '@nestjs/cqrs';
import type { Pool } from 'pg';
import { EventStore } from '../src/event-store/event-store';
import { startApplication, type RunningThodare } from '../src/main';
import { RunClaims } from '../src/run-queue/run-claims';
import { StartRunCommand } from '../src/runs/start-run.command';
import { benchStep, chain, Runner, runtimeConfig, w3Burst } from './runtime';
import { benchDatabase, percentile, projectionsSettled, round, siblingSchema, type BenchDatabase } from './support';

const metadata = { actor: { type: 'system' as const, id: 'bench' } };
const ORG = 'org-bench';
/** Events stored before the second half (`THODARE_SCALE_EVENTS` to change; the issue asks for 10 million). */
const STORED_EVENTS = Number(process.env.THODARE_SCALE_EVENTS ?? 10_000_000);
const SAMPLES = 500;

const stats = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50), 3), p99: round(percentile(sorted, 99), 3) };
};

async function timed(count: number, op: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 20; i += 1) await op(-1 - i); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const began = performance.now();
    await op(i);
    samples.push(performance.now() - began);
  }
  return stats(samples);
}

interface Latencies {
  eventsStored: number;
  appendMs: { p50: number; p99: number };
  claimMs: { p50: number; p99: number };
  stepMs: { p50: number; p99: number };
  w3SerialMs: { p50: number; p99: number };
}

/**
 * The three hot-path latencies on the store as it is now, each serial on an otherwise idle
 * process: an append of one event to a new stream (the event store), a worker's claim of one
 * queued run among `SAMPLES` (an API-only process, so no worker races the bench's claims), and
 * a step (a 100-step chain's wall time ÷ 100, one worker), with W3 serial beside it.
 */
async function latencies(db: BenchDatabase, pool: Pool, label: string): Promise<Latencies> {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM events');
  const eventsStored = Number(rows[0]!.n);
  const store = new EventStore(pool, 'bench');
  const appendMs = await timed(SAMPLES, (i) => store.append(`bench-${label}-${i}`, 0, [{ type: 'Benched', data: { i } }], { organizationId: ORG, metadata }));

  const apiOnly = await startApplication({ config: runtimeConfig(db), databaseUrl: db.url, roles: { api: true, worker: false }, connectors: [benchStep] });
  let claimMs: Latencies['claimMs'];
  try {
    const bus = apiOnly.app.get(CommandBus);
    const pinned = { version: 1, workflow: chain(3, 'bench_step') };
    for (let i = 0; i < SAMPLES + 20; i += 1) await bus.execute(new StartRunCommand(ORG, 'wf-bench', {}, metadata, { workflow: pinned }));
    const claims = new RunClaims(pool, `bench-claimer-${label}`, 60_000);
    claimMs = await timed(SAMPLES, async () => {
      if ((await claims.claimBatch(1)).length !== 1) throw new Error('no queued run to claim');
    });
    // Give them back due now: the next process's worker runs them before the step figures.
    await pool.query('UPDATE run_state SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1', [`bench-claimer-${label}`]);
  } finally {
    await apiOnly.close();
  }

  const app = await startApplication({ config: runtimeConfig(db), databaseUrl: db.url, roles: { api: true, worker: true }, connectors: [benchStep] });
  try {
    const runner = new Runner(app);
    await drained(pool);
    // And its projections caught up: a process that starts after a burst first digests the
    // burst's events (no projection runs in an API-only process), and the step figures taken
    // meanwhile were the backlog's (the ~12,000-run store's step p50: 2.2 ms against 0.9).
    await projectionsSettled(pool);
    // Steps that are not pure: a commit each (a chain of transforms would be one commit).
    const c100 = chain(100, 'bench_step');
    const stepMs = await timed(20, () => runner.once(c100));
    const w3SerialMs = await timed(SAMPLES, () => runner.once(chain(3, 'bench_step')));
    return { eventsStored, appendMs, claimMs, stepMs: { p50: round(stepMs.p50 / 100, 3), p99: round(stepMs.p99 / 100, 3) }, w3SerialMs };
  } finally {
    await app.close();
  }
}

async function drained(pool: Pool): Promise<void> {
  for (;;) {
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM run_state WHERE available_at IS NOT NULL`);
    if (Number(rows[0]!.n) === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Fills the store with `target` events of finished runs: copies of the run streams already
 * stored (their events and `run_state` rows, under new run ids), in statements of one copy each.
 * History that old is already projected, so every async projection's checkpoint is moved past
 * it: the figures are the hot path's, not a 10-million-event catch-up.
 */
async function fill(pool: Pool, target: number): Promise<{ events: number; runs: number; seconds: number }> {
  const began = performance.now();
  const { rows: have } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE stream_id LIKE 'run-%'`);
  const perCopy = Number(have[0]!.n);
  if (perCopy === 0) throw new Error('no run streams to copy');
  const copies = Math.ceil(target / perCopy);
  for (let copy = 1; copy <= copies; copy += 1) {
    await pool.query(
      `INSERT INTO events (stream_id, stream_version, organization_id, type, data, metadata, recorded_at)
       SELECT stream_id || '-copy' || $1::int, stream_version, organization_id, type, data, metadata, recorded_at
       FROM events WHERE stream_id LIKE 'run-%' AND stream_id NOT LIKE '%-copy%'`,
      [copy],
    );
    await pool.query(
      `INSERT INTO run_state (run_id, organization_id, workflow_id, workflow_version, seq, status, stream_version, error, waiting_for, created_at, started_at, ended_at, updated_at)
       SELECT run_id || '-copy' || $1::int, organization_id, workflow_id, workflow_version, seq, status, stream_version, error, waiting_for, created_at, started_at, ended_at, updated_at
       FROM run_state WHERE run_id NOT LIKE '%-copy%'`,
      [copy],
    );
    if (copy % 10 === 0) process.stderr.write(`scale: ${copy * perCopy} of ${target} events stored\n`);
  }
  await pool.query(`UPDATE projection_checkpoints SET (transaction_id, global_position) = (SELECT transaction_id, global_position FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1)`);
  await pool.query('VACUUM ANALYZE events');
  await pool.query('VACUUM ANALYZE run_state');
  // Written out before the figures: the fill (and VACUUM) left gigabytes of dirty pages, and a
  // checkpoint flushing them would otherwise run under the "loaded" latencies, which are about a
  // store that holds 10 million events, not one still writing them. Needs a superuser or
  // pg_checkpoint: without either, the figures are taken as they come.
  await pool.query('CHECKPOINT').catch(() => undefined);
  const { rows } = await pool.query<{ events: string; runs: string }>(`SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM run_state) AS runs`);
  return { events: Number(rows[0]!.events), runs: Number(rows[0]!.runs), seconds: round((performance.now() - began) / 1000, 0) };
}

const ratio = (loaded: number, empty: number) => round(loaded / empty, 2);

/**
 * Issue 14's scale figures: cost grows linearly (W3 at 10,000 runs against W3 at 1,000: runs/s
 * and the machine's CPU per run, target within 10 %), and the hot path does not slow with
 * history (append, claim and step latency with `THODARE_SCALE_EVENTS` events stored against an
 * empty store, target within 20 %).
 */
export async function benchScale(): Promise<Record<string, unknown>> {
  const db = await benchDatabase();
  const pool = db.pool(4);
  try {
    // Warm this process (JIT, pools) first, so the empty store's figures are not a cold start's.
    const warm = await startApplication({ config: runtimeConfig(db), databaseUrl: db.url, roles: { api: true, worker: true }, connectors: [benchStep] });
    await w3Burst(new Runner(warm), 200, chain(3, 'bench_step')).finally(() => warm.close());
    const empty = await latencies(db, pool, 'empty');
    let linear: Record<string, unknown>;
    const app: RunningThodare = await startApplication({ config: runtimeConfig(db), databaseUrl: db.url, roles: { api: true, worker: true }, connectors: [benchStep] });
    try {
      const runner = new Runner(app);
      // Each burst on a settled system, as in the runtime bench.
      await projectionsSettled(pool);
      const thousand = await w3Burst(runner, 1_000, chain(3, 'bench_step'));
      await projectionsSettled(pool);
      const tenThousand = await w3Burst(runner, 10_000, chain(3, 'bench_step'));
      linear = {
        W3_1000: thousand,
        W3_10000: tenThousand,
        runsPerSecRatio: ratio(tenThousand.runsPerSec, thousand.runsPerSec),
        cpuPerRunRatio: ratio(tenThousand.machineCpuMsPerRun, thousand.machineCpuMsPerRun),
        // A bound on growth: a run of the 10,000 may cost less than one of the 1,000 (the burst's
        // fixed costs, its ramp up and down, spread over ten times the runs), never 10 % more.
        target_within_10pct_met: tenThousand.machineCpuMsPerRun <= 1.1 * thousand.machineCpuMsPerRun,
      };
    } finally {
      await app.close();
    }
    // Mid-sized: the ~12,000 runs of the bursts, where a plan made on an empty table and never
    // revised hurt most (an append read all of run_state: migrations/0017); the filled store's
    // fresh statistics hid it.
    const grown = await latencies(db, pool, 'grown');
    const stored = await fill(pool, STORED_EVENTS);
    const loaded = await latencies(db, pool, 'loaded');
    // The empty figures above are ~6 minutes older than the loaded ones, and this VM drifts by
    // more than 20 % over minutes: a second empty store, measured right after the loaded one on
    // the same server, tells drift from growth.
    const control = await siblingSchema(db);
    const emptyBeside = await latencies(control, control.pool(4), 'beside').finally(() => control.close());
    const ratiosOf = (at: Latencies, base = empty) => ({
      append: ratio(at.appendMs.p50, base.appendMs.p50),
      claim: ratio(at.claimMs.p50, base.claimMs.p50),
      step: ratio(at.stepMs.p50, base.stepMs.p50),
      w3Serial: ratio(at.w3SerialMs.p50, base.w3SerialMs.p50),
    });
    const ratios = ratiosOf(loaded);
    const grownRatios = ratiosOf(grown);
    const within = (r: ReturnType<typeof ratiosOf>) => r.append <= 1.2 && r.claim <= 1.2 && r.step <= 1.2;
    return {
      benchmark: 'scale',
      database: db.embedded ? 'embedded' : 'DATABASE_URL',
      linear,
      history: {
        stored,
        empty,
        grown,
        loaded,
        p50RatiosGrown: grownRatios,
        p50Ratios: ratios,
        emptyBeside,
        p50RatiosBeside: ratiosOf(loaded, emptyBeside),
        target_within_20pct_met: within(ratios) && within(grownRatios),
      },
      targets: {
        linear: 'W3 at 10,000 runs within 10 % of W3 at 1,000 (machine CPU per run: at most 10 % more)',
        history: 'append, claim and step p50 with 10 million events stored (and with the ~12,000 runs of the bursts) within 20 % of an empty store (p50Ratios: against the empty store measured first; p50RatiosBeside, not in the verdict: against another empty store measured right after the loaded one)',
      },
    };
  } finally {
    await db.close();
  }
}
