import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Pool } from 'pg';
import type { RunEvent } from '../domain/run/run.events';
import { queuedInLines, type Admission } from '../run-queue/run-concurrency';
import type { RunMetrics } from '../runs/run-metrics';
import type { WorkerMetrics } from '../worker/worker-metrics';
import { COUNT_BOUND, projectionLag, runnableQueueDepth, sealingLagSeconds } from './scrape-queries';

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const ENDINGS: Partial<Record<RunEvent['type'], string>> = { RunCompleted: 'completed', RunFailed: 'failed', RunCancelled: 'cancelled' };

/**
 * The Prometheus metrics of one application. Its own registry (never prom-client's global one:
 * tests run several apps in one process). Labels never carry run or organization ids; database
 * gauges are read at scrape time with bounded queries.
 */
export class ThodareMetrics implements WorkerMetrics, RunMetrics {
  readonly registry = new Registry();
  private readonly http = new Counter({ name: 'thodare_http_requests_total', help: 'HTTP requests by method, route pattern and status', labelNames: ['method', 'route', 'status'], registers: [this.registry] });
  private readonly httpSeconds = new Histogram({ name: 'thodare_http_request_duration_seconds', help: 'HTTP request latency by method and route pattern', labelNames: ['method', 'route'], buckets: SECONDS_BUCKETS, registers: [this.registry] });
  private readonly runsStarted = new Counter({ name: 'thodare_runs_started_total', help: 'Runs started (recorded by this process)', registers: [this.registry] });
  private readonly runsEnded = new Counter({ name: 'thodare_runs_ended_total', help: 'Runs ended (recorded by this process), by status', labelNames: ['status'], registers: [this.registry] });
  private readonly attempts = new Counter({ name: 'thodare_step_attempts_total', help: 'Step attempts run by this worker, by connector type and outcome', labelNames: ['connector', 'outcome'], registers: [this.registry] });
  private readonly attemptSeconds = new Histogram({ name: 'thodare_step_attempt_duration_seconds', help: 'Step attempt duration by connector type', labelNames: ['connector'], buckets: SECONDS_BUCKETS, registers: [this.registry] });
  private readonly takeovers = new Counter({ name: 'thodare_lease_takeovers_total', help: 'Run leases freed because their worker was gone', registers: [this.registry] });
  private readonly conflicts = new Counter({ name: 'thodare_append_conflicts_total', help: 'Worker batches that lost the race for their stream version', registers: [this.registry] });
  private readonly admissions = new Counter({
    name: 'thodare_concurrency_admissions_total',
    help: "Places asked for by this worker's runs in their workflow's concurrency line, by outcome (admitted, queued, moved)",
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private heldRuns: () => number = () => 0;

  constructor(pool: Pool, asyncProjections: readonly string[]) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const held = () => this.heldRuns();
    new Gauge({ name: 'thodare_worker_runs_held', help: 'Runs this worker holds the lease of', registers, collect() { this.set(held()); } });
    new Gauge({ name: 'thodare_db_pool_connections_in_use', help: 'Pool connections checked out', registers, collect() { this.set(pool.totalCount - pool.idleCount); } });
    new Gauge({ name: 'thodare_db_pool_connections_waiting', help: 'Callers waiting for a pool connection', registers, collect() { this.set(pool.waitingCount); } });
    new Gauge({ name: 'thodare_db_pool_connections_total', help: 'Pool connections open', registers, collect() { this.set(pool.totalCount); } });
    new Gauge({
      name: 'thodare_runnable_queue_depth',
      help: 'Runs due now with no live lease (counted up to a bound)',
      registers,
      async collect() {
        const depth = await runnableQueueDepth(pool).catch(() => undefined);
        if (depth !== undefined) this.set(depth);
      },
    });
    // prom-client collects every gauge of a scrape at once: both concurrency gauges take one read.
    const lines = sharedWhileInFlight(() => queuedInLines(pool, COUNT_BOUND).catch(() => undefined));
    const lineGauges = [
      { name: 'thodare_concurrency_queued_runs', help: "Runs waiting for a place in their workflow's concurrency line (counted up to a bound)", value: (now: { queued: number }) => now.queued },
      { name: 'thodare_concurrency_oldest_queued_seconds', help: 'How long the run waiting longest for a place in a concurrency line has waited (0 when none waits)', value: (now: { oldestSeconds: number }) => now.oldestSeconds },
    ];
    for (const { name, help, value } of lineGauges) {
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          const now = await lines();
          if (now) this.set(value(now));
        },
      });
    }
    new Gauge({
      name: 'thodare_projection_lag_events',
      help: 'Events after each async projection checkpoint (counted up to a bound)',
      labelNames: ['projection'],
      registers,
      async collect() {
        this.reset();
        const lags = await projectionLag(pool, asyncProjections).catch(() => new Map<string, number>());
        for (const [projection, lag] of lags) this.set({ projection }, lag);
      },
    });
    new Gauge({
      name: 'thodare_audit_sealing_lag_seconds',
      help: 'Age of the oldest event the audit sealer has not sealed yet (0 when all are sealed)',
      registers,
      async collect() {
        const lag = await sealingLagSeconds(pool).catch(() => undefined);
        if (lag !== undefined) this.set(lag);
      },
    });
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    this.http.inc({ method, route, status: String(status) });
    this.httpSeconds.observe({ method, route }, seconds);
  }

  recorded(events: readonly RunEvent[]): void {
    for (const event of events) {
      if (event.type === 'RunStarted') this.runsStarted.inc();
      const status = ENDINGS[event.type];
      if (status) this.runsEnded.inc({ status });
    }
  }

  stepAttempt(connector: string, ok: boolean, seconds: number): void {
    this.attempts.inc({ connector, outcome: ok ? 'succeeded' : 'failed' });
    this.attemptSeconds.observe({ connector }, seconds);
  }

  leaseTakeovers(runs: number): void {
    this.takeovers.inc(runs);
  }

  appendConflict(): void {
    this.conflicts.inc();
  }

  admission(outcome: Admission): void {
    this.admissions.inc({ outcome });
  }

  observeHeldRuns(count: () => number): void {
    this.heldRuns = count;
  }

  /** The exposition text. A database gauge that cannot be read keeps its last value (lag: left out) rather than failing the scrape. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}

/** `read`, shared by every caller while one read is in flight. */
function sharedWhileInFlight<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () =>
    (inFlight ??= read().finally(() => {
      inFlight = undefined;
    }));
}
