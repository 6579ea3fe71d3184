import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Pool } from 'pg';
import { describeWorkerOrganizations, type Config } from '../config/config';
import { CONNECTOR_CATALOG } from '../connectors/catalog.token';
import { CONFIG } from '../database/database.module';
import { everyPeriod, type Periodic } from '../periodic';
import { settledOrAfter } from '../settled-or-after';
import { classifyDatabaseError } from '../database/pg-errors';
import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import type { ExecuteStep } from '../domain/run/run.actions';
import type { RunStarted } from '../domain/run/run.events';
import type { RunState, RunStatus } from '../domain/run/run.state';
import type { StepOutcome } from '../domain/run/step-result';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { RunChanges, type RunChange } from '../runs/run-changes';
import { RunHandoff, type LocalRunner, type ReservedStart } from '../runs/run-handoff';
import { EventTriggerStarts } from '../runs/event-trigger-starts';
import { RunCommands } from '../runs/run-commands';
import { RunStore } from '../runs/run-store';
import { SecretsService } from '../secrets/secrets.service';
import { ActiveRun } from './active-run';
import type { AttemptStop } from './attempt-stop';
import { ClaimPasses } from './claim-passes';
import { DatabaseOutage } from './database-outage';
import { sweepOrgEvents } from './org-event-sweeper';
import { RunClaims, type ClaimedRun } from '../run-queue/run-claims';
import type { RunHost, Settled } from './run-host';
import { StoreJournal } from './run-journal';
import { RunSteps } from './run-steps';
import { RunTimers } from './run-timers';
import { StepExecutor } from './step-executor';
import { WorkerLiveness } from './worker-liveness';
import { WorkerSlots } from './worker-slots';
import { WORKER_METRICS, type WorkerMetrics } from './worker-metrics';
import { WORKER_HOOKS, type WorkerHooks } from '../tracing/hooks';
import { createRunHooks, type RunHooks } from '../tracing/hook-runner';

const PARKED_CACHE_LIMIT = 10_000;
/** An idle run whose timer is due within this long stays held (while a quarter of the slots are free). */
const HOLD_IDLE_MS = 2_000;
const SWEEP_INTERVAL_MS = 15_000;

/**
 * The replay worker (ARCHITECTURE §7): claims due runs in batches sized to its free slots (a
 * slot = one run held), holds each with a lease it renews, and hands it to an `ActiveRun`. Woken
 * by run notifications (starts, signals, cancels), by its own timers for parked runs due soon,
 * and by a poll that guarantees progress when a notification is lost. On shutdown it drains: no
 * new claims, steps in flight finish and are recorded within the grace period. See
 * `src/worker/README.md`.
 */
@Injectable()
export class RunWorker implements RunHost, LocalRunner, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  readonly log = new Logger('worker');
  readonly journal: StoreJournal;
  readonly hooks: RunHooks;
  private readonly claims: RunClaims;
  private readonly steps: RunSteps;
  private readonly slots: WorkerSlots;
  private readonly outage: DatabaseOutage;
  private readonly liveness: WorkerLiveness;
  private readonly active = new Map<string, ActiveRun>();
  /** Runs handed over at their start whose creating commit is not done: no lease to renew yet. */
  private readonly starting = new Set<string>();
  private readonly parked = new Map<string, RunState>();
  private readonly passes: ClaimPasses;
  private readonly timers = new RunTimers(
    (runId, organizationId) => void this.passes.claimOne(runId, organizationId),
    () => this.readyForWake(),
  );
  /** A `readyForWake` statement is in flight. */
  private readying = false;
  private phase: 'running' | 'draining' | 'stopped' = 'running';
  private intervals: Periodic[] = [];
  private renewal: Periodic | undefined;
  private unsubscribe: (() => void) | undefined;
  private drained: (() => void) | undefined;

  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(RunStore) private readonly store: RunStore,
    @Inject(RunCommands) private readonly commands: RunCommands,
    @Inject(EventStore) private readonly events: EventStore,
    @Inject(RunChanges) private readonly changes: RunChanges,
    @Inject(CONNECTOR_CATALOG) catalog: ConnectorCatalog,
    @Inject(SecretsService) secrets: SecretsService,
    @Inject(RunHandoff) private readonly handoff: RunHandoff,
    @Inject(EventTriggerStarts) private readonly triggers: EventTriggerStarts,
    @Optional() @Inject(WORKER_METRICS) private readonly metrics?: WorkerMetrics,
    @Optional() @Inject(WORKER_HOOKS) hooks?: readonly WorkerHooks[],
  ) {
    this.hooks = createRunHooks(hooks, this.log);
    this.claims = new RunClaims(pool, this.owner, config.leaseMs, config.workerOrganizations);
    this.journal = new StoreJournal(store, this.claims, pool, store.decider.limits, this.metrics);
    metrics?.observeHeldRuns(() => this.active.size);
    const executor = new StepExecutor(catalog, secrets, (message, data) => this.log.log({ ...data, connectorLog: true }, message), store.decider.limits.maxPayloadBytes);
    this.steps = new RunSteps(catalog, executor, { env: config.templateEnvValues, allowList: config.templateEnv }, store.decider.limits.maxPayloadBytes, metrics);
    this.slots = new WorkerSlots(config.workerSlots);
    this.passes = new ClaimPasses(this.claims, this.slots, {
      canClaim: () => this.phase === 'running' && !this.outage.isDown,
      isHeld: (runId) => this.active.has(runId),
      adopt: (claim) => this.adopt(claim),
      failed: (error, message) => this.failed(error, message),
    });
    this.outage = new DatabaseOutage(() => pool.query('SELECT 1'), this.log);
    this.outage.onRecovered(() => this.wake());
    this.liveness = new WorkerLiveness(pool, this.owner, (data, message) => this.log.warn(data, message), (error) => this.databaseAway(error));
  }

  get leaseMs(): number {
    return this.config.leaseMs;
  }

  get decider() {
    return this.store.decider;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.liveness.start(); // before the first claim: a lease is never held without it
    this.handoff.register(this);
    this.unsubscribe = this.changes.onAnyRun((runId, change) => this.onChange(runId, change));
    this.changes.onReconnect(() => this.wake());
    this.intervals = [
      everyPeriod(this.config.pollIntervalMs, () => this.poll()),
      everyPeriod(SWEEP_INTERVAL_MS, () => void this.sweep()),
    ];
    this.renewal = everyPeriod(Math.max(100, Math.floor(this.config.leaseMs / 3)), () => void this.renew());
    this.wake();
    this.log.log(`run worker ${this.owner}: ${this.config.workerSlots} slots, lease ${this.config.leaseMs} ms, runs of ${describeWorkerOrganizations(this.config.workerOrganizations)}`);
  }

  /**
   * Drains before the connections close: stops claiming, lets every step in flight finish and be
   * recorded (nothing new starts), gives each run back as it goes quiet; at the deadline aborts
   * what is left and gives those runs back too (their attempts will run again elsewhere).
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.phase !== 'running') return;
    this.phase = 'draining';
    this.stopClaiming();
    const grace = this.config.shutdownGraceMs;
    const deadline = grace - Math.min(2_000, grace / 5); // leaves time to release and close
    if (this.active.size > 0) {
      this.log.log(`draining ${this.active.size} run(s) for up to ${Math.round(deadline)} ms`);
      const drained = new Promise<void>((resolve) => (this.drained = resolve));
      for (const run of [...this.active.values()]) run.drain();
      await settledOrAfter(drained, deadline);
    }
    this.stop();
    const leftover = this.active.size;
    for (const run of [...this.active.values()]) run.drop();
    if (leftover > 0) {
      this.log.warn({ runs: leftover }, 'shutdown deadline: aborted the steps still running; their runs are given back');
      await settledOrAfter(this.claims.releaseAll(), 1_000).catch((error: unknown) => this.log.warn({ err: error }, 'could not release leases at shutdown'));
    }
  }

  onApplicationShutdown(): void {
    this.stopClaiming();
    this.stop();
    for (const run of [...this.active.values()]) run.drop();
  }

  /** Takes a run started in this process at once, when a slot is free (see `RunHandoff`). */
  async tryStart(started: RunStarted, metadata: EventMetadata, checkWorkflow: boolean): Promise<RunStatus | undefined> {
    const run = await this.slotForStart(started);
    if (!run) return undefined;
    let status: RunStatus | undefined;
    try {
      status = await run.startFresh(started, metadata, checkWorkflow);
    } finally {
      if (status === undefined) this.forgetStart(run);
      else this.starting.delete(run.runId);
    }
    return status;
  }

  /**
   * Takes a run at its start in a caller's transaction, when a slot is free now (see
   * `LocalRunner.reserve`). It never waits for a claim pass holding the free slots: the caller's
   * transaction holds a connection the pass may need, and the run can always go through the queue.
   */
  async reserve(started: RunStarted): Promise<ReservedStart | undefined> {
    const run = await this.slotForStart(started, false);
    if (!run) return undefined;
    const first = await run.prepareFresh(started);
    return {
      events: first.events,
      state: first.state,
      release: first.batch.release,
      lease: run.lease,
      launch: () => {
        this.starting.delete(run.runId);
        run.launchFresh(first);
      },
      abandon: () => {
        run.dropFresh();
        this.forgetStart(run);
      },
    };
  }

  holds(runId: string): boolean {
    return this.active.has(runId);
  }

  /**
   * A slot and an `ActiveRun` for a run taken at its start; undefined when no slot is free.
   * `waitForPass`: a claim pass in flight may hold the last free slots for the ms its claim
   * takes; wait for them.
   */
  private async slotForStart(started: RunStarted, waitForPass = true): Promise<ActiveRun | undefined> {
    if (this.phase !== 'running' || this.outage.isDown) return undefined;
    // A run of an organization this worker leaves to others goes through the queue, to theirs.
    if (!this.claims.serves(started.data.organizationId)) return undefined;
    if (this.slots.take(1) === 0) {
      if (!waitForPass) return undefined;
      await this.passes.whenDone();
      if (this.phase !== 'running' || this.slots.take(1) === 0) return undefined;
    }
    const { runId, organizationId } = started.data;
    const run = new ActiveRun(this, { runId, organizationId, streamVersion: 0, epoch: 1 });
    this.active.set(runId, run);
    this.starting.add(runId);
    return run;
  }

  /** Nothing of a run's start was written (or its outcome is unknown): its slot goes back. */
  private forgetStart(run: ActiveRun): void {
    this.starting.delete(run.runId);
    if (this.active.get(run.runId) !== run) return;
    this.active.delete(run.runId);
    this.slots.give();
    if (this.active.size === 0) this.drained?.();
  }

  /** Runs a claim pass now (coalesced with one in flight). */
  wake(): void {
    this.passes.wake();
  }

  runsInline(step: ExecuteStep): boolean {
    return this.steps.isPure(step);
  }

  execute(run: { runId: string; organizationId: string }, step: ExecuteStep, state: RunState, params: Record<string, unknown> | undefined, stop: AttemptStop | undefined): Promise<StepOutcome> {
    return this.hooks.stepAttempt(run.runId, step, state, () => this.steps.execute(run, step, state, params, stop));
  }

  ports(now: Date, resolved: Map<string, Record<string, unknown>>) {
    return this.steps.ports(now, resolved);
  }

  holdsIdleUntil(wakeAt: Date): boolean {
    // The slots a claim in flight took count as free: counted as busy, they parked a run whose
    // sleep began while a pass was out (most passes come back short), and it was claimed again
    // at its wake instead of waking held.
    const free = this.slots.free + this.passes.slotsClaiming;
    return this.phase === 'running' && wakeAt.getTime() - Date.now() <= Math.min(HOLD_IDLE_MS, this.config.leaseMs / 2) && free >= this.slots.capacity / 4;
  }

  /**
   * One `SELECT 1` on an idle connection, the one the pool hands out next (it reuses the last one
   * returned): the database's process and this one are awake when the timer's batch is sent. A
   * pool with no idle connection is busy, and so is the machine: nothing is sent then.
   */
  readyForWake(): void {
    if (this.readying || this.pool.idleCount === 0) return;
    this.readying = true;
    this.pool
      .query('SELECT 1')
      .catch(() => undefined)
      .finally(() => (this.readying = false));
  }

  databaseAway(error: unknown): Promise<void> {
    this.outage.report(error);
    return this.outage.whenUp();
  }

  settled(runId: string, how: Settled, parked?: { state: RunState; organizationId: string; wakeAt: Date | undefined }): void {
    this.hooks.released(runId, how);
    if (!this.active.delete(runId)) return;
    this.slots.give();
    this.parked.delete(runId);
    if (how === 'parked' && parked) {
      if (this.parked.size >= PARKED_CACHE_LIMIT) this.parked.delete(this.parked.keys().next().value as string);
      this.parked.set(runId, parked.state);
      if (parked.wakeAt && this.phase === 'running') this.timers.schedule(runId, parked.organizationId, parked.wakeAt);
    }
    if (this.active.size === 0) this.drained?.();
    this.passes.slotFreed(); // pick up what a pass short of slots left behind
  }

  /** Adopts a claimed run; its slot was taken before the claim. */
  private adopt(claim: ClaimedRun): void {
    this.timers.cancel(claim.runId);
    const cached = this.parked.get(claim.runId);
    this.parked.delete(claim.runId);
    const run = new ActiveRun(this, claim);
    this.active.set(claim.runId, run);
    run.start(cached);
  }

  private onChange(runId: string, change: RunChange | undefined): void {
    const run = this.active.get(runId);
    if (run) return run.wake(change?.version); // ignores its own appends (already folded)
    if (change?.ended) return;
    const parked = this.parked.get(runId);
    if (change && parked && change.version <= parked.version) return; // the append that parked it
    this.wake();
  }

  /** The poll: frees the runs of workers that died, then claims what is due. */
  private poll(): void {
    if (this.phase !== 'running' || this.outage.isDown) return;
    this.claims.reapDead().then(
      (freed) => {
        if (freed > 0) this.log.log({ runs: freed }, 'took over the runs of a worker that is gone');
        if (freed > 0) this.metrics?.leaseTakeovers(freed);
        this.wake();
      },
      (error: unknown) => {
        this.failed(error, 'could not look for dead workers');
        this.wake();
      },
    );
  }

  private async sweep(): Promise<void> {
    if (this.outage.isDown) return;
    const metadata: EventMetadata = { actor: { type: 'system', id: `worker:${this.owner}` } };
    await sweepOrgEvents(this.pool, this.events, this.commands, this.triggers, metadata).catch((error: unknown) => this.failed(error, 'organization event sweep failed'));
  }

  /** Extends every held lease; a run whose lease is gone is dropped, one that moved is caught up. */
  private async renew(): Promise<void> {
    const held = [...this.active.values()].filter((run) => !this.starting.has(run.runId));
    if (held.length === 0 || this.phase === 'stopped' || this.outage.isDown) return;
    try {
      const renewed = new Map((await this.claims.renew(held.map((run) => run.runId))).map((claim) => [claim.runId, claim]));
      for (const run of held) {
        const claim = renewed.get(run.runId);
        if (this.active.get(run.runId) !== run) continue; // it settled meanwhile
        if (!claim) run.drop();
        else if (run.version !== undefined && claim.streamVersion > run.version) run.wake(claim.streamVersion);
      }
    } catch (error) {
      this.failed(error, 'lease renewal failed');
    }
  }

  /** A background call failed: an outage is reported once (see `DatabaseOutage`), anything else logged. */
  private failed(error: unknown, message: string): void {
    if (classifyDatabaseError(error) === 'unavailable') this.outage.report(error);
    else this.log.warn({ err: error }, message);
  }

  private stopClaiming(): void {
    this.handoff.register(undefined);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const periodic of this.intervals) periodic.stop();
    this.intervals = [];
    this.timers.clear();
  }

  private stop(): void {
    this.phase = 'stopped';
    this.renewal?.stop();
    this.liveness.stop();
    this.outage.stop();
  }
}
