import { CommandBus } from '@nestjs/cqrs';
import type { Pool } from 'pg';
import { EventStore } from '../src/event-store/event-store';
import { startApplication, type RunningThodare } from '../src/main';
import { RunClaims } from '../src/run-queue/run-claims';
import { StartRunCommand } from '../src/runs/start-run.command';
import { benchStep, Runner, runtimeConfig, w3Burst } from './runtime';
import { SideBySide } from './side-by-side';
import { benchDatabase, chain, projectionsSettled, round, siblingSchema, stats as latencyStats, type BenchDatabase } from './support';

const metadata = { actor: { type: 'system' as const, id: 'bench' } };
const ORG = 'org-bench';
/** Events stored before the second half (`THODARE_SCALE_EVENTS` to change; the issue asks for 10 million). */
const STORED_EVENTS = Number(process.env.THODARE_SCALE_EVENTS ?? 10_000_000);
const SAMPLES = 500;

const stats = (samples: number[]) => latencyStats(samples, 3);

/** How often the stores take turns: each figure's samples come in this many blocks per store. */
const ROUNDS = 10;

interface Latencies {
  eventsStored: number;
  appendMs: { p50: number; p99: number };
  claimMs: { p50: number; p99: number };
  stepMs: { p50: number; p99: number };
  w3SerialMs: { p50: number; p99: number };
}

interface Store {
  label: string;
  db: BenchDatabase;
  pool: Pool;
}

/**
 * The three hot-path latencies on each store, serial on an otherwise idle process, with the
 * stores taking turns (`SideBySide`): this VM drifts by more than 20 % over minutes, so a store
 * measured minutes after another could not be told from it. An append of one event to a new
 * stream (the event store); a worker's claim of one queued run among `SAMPLES` (no worker runs
 * then, so none races the bench's claims); a step (a 100-step chain's wall time ÷ 100, one
 * worker), with W3 serial beside it. Also where each store's appends landed: those in heap
 * pages written before them went into older pages' free space (`docs/scaling.md`).
 */
async function latenciesSideBySide(stores: Store[]): Promise<Record<string, Latencies & { appendsInOlderPages: string }>> {
  const side = new SideBySide(stores, ROUNDS);
  const pagesBefore = new Map<string, number>();
  for (const { label, pool } of stores) {
    const { rows } = await pool.query<{ pages: string }>(`SELECT pg_relation_size('events') / current_setting('block_size')::int AS pages`);
    pagesBefore.set(label, Number(rows[0]!.pages));
  }
  const storeOf = new Map(stores.map((s) => [s.label, new EventStore(s.pool, 'bench')]));
  const append = await side.measure(SAMPLES, (s, i) =>
    storeOf.get(s.label)!.append(`bench-${s.label}-${i}`, 0, [{ type: 'Benched', data: { i } }], { organizationId: ORG, metadata }),
  );

  for (const store of stores) {
    const apiOnly = await startApplication({ config: runtimeConfig(store.db), databaseUrl: store.db.url, roles: { api: true, worker: false }, connectors: [benchStep] });
    try {
      const bus = apiOnly.app.get(CommandBus);
      const pinned = { version: 1, workflow: chain(3, 'bench_step') };
      for (let i = 0; i < SAMPLES + 20; i += 1) await bus.execute(new StartRunCommand(ORG, 'wf-bench', {}, metadata, { workflow: pinned }));
    } finally {
      await apiOnly.close();
    }
  }
  const claimsOf = new Map(stores.map((s) => [s.label, new RunClaims(s.pool, `bench-claimer-${s.label}`, 60_000)]));
  const claim = await side.measure(SAMPLES, async (s) => {
    if ((await claimsOf.get(s.label)!.claimBatch(1)).length !== 1) throw new Error('no queued run to claim');
  });
  // Give them back due now: each store's worker runs them before its step figures.
  for (const s of stores) await s.pool.query('UPDATE run_state SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1', [`bench-claimer-${s.label}`]);

  // One process at a time, started for each block and closed after it, as a store's figures
  // were before: three workers at once would each poll beside the one measured.
  let runner: Runner | undefined;
  const withWorker = async (store: Store, block: () => Promise<void>) => {
    const app = await startApplication({ config: runtimeConfig(store.db), databaseUrl: store.db.url, roles: { api: true, worker: true }, connectors: [benchStep] });
    try {
      runner = new Runner(app);
      await drained(store.pool);
      // And its projections caught up: a process that starts after a burst first digests the
      // burst's events, and step figures taken meanwhile were the backlog's.
      await projectionsSettled(store.pool);
      await block();
    } finally {
      await app.close();
    }
  };
  // Steps that are not pure: a commit each (a chain of transforms would be one commit).
  const c100 = chain(100, 'bench_step');
  const w3 = chain(3, 'bench_step');
  const steps = new Map(stores.map((s) => [s.label, [] as number[]]));
  const w3Serial = await side.measure(
    SAMPLES,
    () => runner!.once(w3),
    (store, block) =>
      withWorker(store, async () => {
        for (let i = 0; i < 20 / ROUNDS; i += 1) steps.get(store.label)!.push((await runner!.once(c100)) / 100);
        await block();
      }),
  );

  const result: Record<string, Latencies & { appendsInOlderPages: string }> = {};
  for (const { label, pool } of stores) {
    const { rows } = await pool.query<{ events: string; older: string; appended: string }>(
      `SELECT (SELECT count(*) FROM events) AS events,
              count(*) FILTER (WHERE (ctid::text::point)[0] < $2) AS older, count(*) AS appended
       FROM events WHERE stream_id LIKE $1`,
      [`bench-${label}-%`, pagesBefore.get(label)],
    );
    result[label] = {
      eventsStored: Number(rows[0]!.events),
      appendMs: stats(append.get(label)!),
      claimMs: stats(claim.get(label)!),
      stepMs: stats(steps.get(label)!),
      w3SerialMs: stats(w3Serial.get(label)!),
      appendsInOlderPages: `${rows[0]!.older} of ${rows[0]!.appended}`,
    };
  }
  return result;
}

async function drained(pool: Pool): Promise<void> {
  for (;;) {
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM run_state WHERE available_at IS NOT NULL`);
    if (Number(rows[0]!.n) === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Fills `into` with `target` events of finished runs: copies of the run streams stored in
 * `from` (their events and `run_state` rows, under new run ids), in statements of one copy each.
 * History that old is already projected, so every async projection's checkpoint is set past it:
 * the figures are the hot path's, not a 10-million-event catch-up.
 */
async function fill(from: Store, into: Store, target: number): Promise<{ events: number; runs: number; seconds: number }> {
  const began = performance.now();
  const source = `"${from.db.schema}"`;
  const pool = into.pool;
  const { rows: have } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${source}.events WHERE stream_id LIKE 'run-%'`);
  const perCopy = Number(have[0]!.n);
  if (perCopy === 0) throw new Error('no run streams to copy');
  const copies = Math.ceil(target / perCopy);
  for (let copy = 1; copy <= copies; copy += 1) {
    await pool.query(
      `INSERT INTO events (stream_id, stream_version, organization_id, type, data, metadata, recorded_at)
       SELECT stream_id || '-copy' || $1::int, stream_version, organization_id, type, data, metadata, recorded_at
       FROM ${source}.events WHERE stream_id LIKE 'run-%'`,
      [copy],
    );
    await pool.query(
      `INSERT INTO run_state (run_id, organization_id, workflow_id, workflow_version, seq, status, stream_version, error, waiting_for, created_at, started_at, ended_at, updated_at)
       SELECT run_id || '-copy' || $1::int, organization_id, workflow_id, workflow_version, seq, status, stream_version, error, waiting_for, created_at, started_at, ended_at, updated_at
       FROM ${source}.run_state`,
      [copy],
    );
    if (copy % 10 === 0) process.stderr.write(`scale: ${copy * perCopy} of ${target} events stored\n`);
  }
  // `into` never ran a projection, so it has no checkpoint rows yet: one per projection of `from`.
  await pool.query(
    `INSERT INTO projection_checkpoints (name, transaction_id, global_position)
     SELECT c.name, last.transaction_id, last.global_position FROM ${source}.projection_checkpoints c,
       (SELECT transaction_id, global_position FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1) last
     ON CONFLICT (name) DO UPDATE SET transaction_id = excluded.transaction_id, global_position = excluded.global_position`,
  );
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
 * history: append, claim and step latency on a store holding `THODARE_SCALE_EVENTS` events and
 * on one holding the bursts' ~12,000 runs, each against an empty store, target within 20 %. The
 * three stores are schemas of one database, measured taking turns.
 */
export async function benchScale(): Promise<Record<string, unknown>> {
  const db = await benchDatabase();
  const opened: BenchDatabase[] = [];
  const storeOn = async (label: string, on?: BenchDatabase): Promise<Store> => {
    const schema = on ?? (await siblingSchema(db));
    if (!on) opened.push(schema);
    return { label, db: schema, pool: schema.pool(4) };
  };
  try {
    const empty = await storeOn('empty', db);
    const grown = await storeOn('grown');
    const loaded = await storeOn('loaded');
    // Warm this process (JIT, pools) first, so the empty store's figures are not a cold start's.
    const warm = await startApplication({ config: runtimeConfig(db), databaseUrl: db.url, roles: { api: true, worker: true }, connectors: [benchStep] });
    await w3Burst(new Runner(warm), 200, chain(3, 'bench_step')).finally(() => warm.close());
    let linear: Record<string, unknown>;
    const app: RunningThodare = await startApplication({ config: runtimeConfig(grown.db), databaseUrl: grown.db.url, roles: { api: true, worker: true }, connectors: [benchStep] });
    try {
      const runner = new Runner(app);
      // Each burst on a settled system, as in the runtime bench.
      await projectionsSettled(grown.pool);
      const thousand = await w3Burst(runner, 1_000, chain(3, 'bench_step'));
      await projectionsSettled(grown.pool);
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
    const stored = await fill(grown, loaded, STORED_EVENTS);
    // The grown store is the mid-sized one: the ~12,000 runs of the bursts, where a plan made
    // on an empty table and never revised hurt most (an append read all of run_state:
    // migrations/0017); the filled store's fresh statistics hid it.
    const at = await latenciesSideBySide([empty, grown, loaded]);
    const ratiosOf = (store: Latencies, base: Latencies) => ({
      append: ratio(store.appendMs.p50, base.appendMs.p50),
      claim: ratio(store.claimMs.p50, base.claimMs.p50),
      step: ratio(store.stepMs.p50, base.stepMs.p50),
      w3Serial: ratio(store.w3SerialMs.p50, base.w3SerialMs.p50),
    });
    const ratios = ratiosOf(at.loaded!, at.empty!);
    const grownRatios = ratiosOf(at.grown!, at.empty!);
    const within = (r: ReturnType<typeof ratiosOf>) => r.append <= 1.2 && r.claim <= 1.2 && r.step <= 1.2;
    return {
      benchmark: 'scale',
      database: db.embedded ? 'embedded' : 'DATABASE_URL',
      linear,
      history: {
        stored,
        measured: `side by side: each figure in ${ROUNDS} blocks per store, the stores taking turns`,
        empty: at.empty,
        grown: at.grown,
        loaded: at.loaded,
        p50RatiosGrown: grownRatios,
        p50Ratios: ratios,
        target_within_20pct_met: within(ratios) && within(grownRatios),
      },
      targets: {
        linear: 'W3 at 10,000 runs within 10 % of W3 at 1,000 (machine CPU per run: at most 10 % more)',
        history: 'append, claim and step p50 with 10 million events stored (and with the ~12,000 runs of the bursts) within 20 % of an empty store, the three measured taking turns',
      },
    };
  } finally {
    for (const schema of opened) await schema.close();
    await db.close();
  }
}
