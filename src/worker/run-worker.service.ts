import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Pool } from 'pg';
import type { Config } from '../config/config';
import { CONNECTOR_CATALOG } from '../connectors/catalog.token';
import { CONFIG } from '../database/database.module';
import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import type { RunStarted } from '../domain/run/run.events';
import type { RunState, RunStatus } from '../domain/run/run.state';
import type { EventMetadata } from '../event-store/event';
import { RunChanges, type RunChange } from '../runs/run-changes';
import { RunHandoff, type LocalRunner } from '../runs/run-handoff';
import { RunStore } from '../runs/run-store';
import { SecretsService } from '../secrets/secrets.service';
import { ActiveRun, type Settled } from './active-run';
import { sweepOrgEvents } from './org-event-sweeper';
import { RunClaims, type ClaimedRun } from './run-claims';
import type { RunHost } from './run-host';
import type { TemplateEnv } from './run-ports';
import { RunTimers } from './run-timers';
import { StepExecutor } from './step-executor';

const PARKED_CACHE_LIMIT = 10_000;
const SWEEP_INTERVAL_MS = 15_000;

/**
 * The replay worker (ARCHITECTURE §7): claims due runs in batches sized to its free slots (a
 * slot = one run held), holds each with a lease it renews, and hands it to an `ActiveRun`. Woken
 * by run notifications (starts, signals, cancels), by its own timers for parked runs due soon,
 * and by a poll that guarantees progress when a notification is lost. See `src/worker/README.md`.
 */
@Injectable()
export class RunWorker implements RunHost, LocalRunner, OnApplicationBootstrap, OnApplicationShutdown {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  readonly claims: RunClaims;
  readonly executor: StepExecutor;
  readonly templateEnv: TemplateEnv;
  /** Every worker append names the worker process: the audit trail shows who recorded each step. */
  readonly metadata: EventMetadata = { actor: { type: 'system', id: `worker:${this.owner}` } };
  readonly log = new Logger('worker');
  private readonly active = new Map<string, ActiveRun>();
  private readonly parked = new Map<string, RunState>();
  private readonly timers = new RunTimers((runId) => void this.claimOne(runId));
  private claiming = false;
  private again = false;
  private stopped = false;
  private intervals: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;

  constructor(
    @Inject(Pool) readonly pool: Pool,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(RunStore) readonly store: RunStore,
    @Inject(RunChanges) private readonly changes: RunChanges,
    @Inject(CONNECTOR_CATALOG) readonly catalog: ConnectorCatalog,
    @Inject(SecretsService) secrets: SecretsService,
    @Inject(RunHandoff) private readonly handoff: RunHandoff,
  ) {
    this.claims = new RunClaims(pool, this.owner, config.leaseMs);
    this.executor = new StepExecutor(catalog, secrets, (message, data) => this.log.log({ ...data, connectorLog: true }, message));
    this.templateEnv = { env: config.templateEnvValues, allowList: config.templateEnv };
  }

  get leaseMs(): number {
    return this.config.leaseMs;
  }

  get decider() {
    return this.store.decider;
  }

  get limits() {
    return this.store.decider.limits;
  }

  onApplicationBootstrap(): void {
    this.handoff.register(this);
    this.unsubscribe = this.changes.onAnyRun((runId, change) => this.onChange(runId, change));
    this.changes.onReconnect(() => this.wake());
    this.intervals = [
      setInterval(() => this.wake(), this.config.pollIntervalMs),
      setInterval(() => void this.renew(), Math.max(100, Math.floor(this.config.leaseMs / 3))),
      setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS),
    ];
    this.wake();
    this.log.log(`run worker ${this.owner}: ${this.config.workerSlots} slots, lease ${this.config.leaseMs} ms`);
  }

  /** Stops claiming and gives every held run back at once (its attempts in flight will be re-run). */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.handoff.register(undefined);
    this.unsubscribe?.();
    this.intervals.forEach(clearInterval);
    this.timers.clear();
    for (const run of [...this.active.values()]) run.drop();
    await this.pool
      .query('UPDATE run_state SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1', [this.owner])
      .catch((error: unknown) => this.log.warn({ err: error }, 'could not release leases at shutdown'));
  }

  /** Takes a run started in this process at once, when a slot is free (see `RunHandoff`). */
  async tryStart(started: RunStarted, metadata: EventMetadata): Promise<RunStatus | undefined> {
    if (this.stopped || this.active.size >= this.config.workerSlots) return undefined;
    const { runId, organizationId } = started.data;
    const run = new ActiveRun(this, { runId, organizationId, streamVersion: 0, epoch: 1 }, undefined);
    this.active.set(runId, run);
    try {
      const status = await run.startFresh(this.decider.fold([started]), [started], metadata);
      if (status === undefined && this.active.get(runId) === run) this.active.delete(runId);
      return status;
    } catch (error) {
      if (this.active.get(runId) === run) this.active.delete(runId);
      throw error;
    }
  }

  /** Runs a claim pass now (coalesced with one in flight). */
  wake(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    this.claiming = true;
    void (async () => {
      try {
        do {
          this.again = false;
          const free = this.config.workerSlots - this.active.size;
          if (free <= 0) break;
          const claimed = await this.claims.claimBatch(free);
          claimed.forEach((claim) => this.adopt(claim));
          if (claimed.length === free) this.again = true;
        } while (this.again && !this.stopped);
      } catch (error) {
        this.log.warn({ err: error }, 'claim pass failed');
      } finally {
        this.claiming = false;
      }
    })();
  }

  settled(run: ActiveRun, how: Settled, state: RunState | undefined, wakeAt: Date | undefined): void {
    if (this.active.get(run.runId) === run) this.active.delete(run.runId);
    if (how === 'parked' && state) {
      this.parked.delete(run.runId);
      if (this.parked.size >= PARKED_CACHE_LIMIT) this.parked.delete(this.parked.keys().next().value as string);
      this.parked.set(run.runId, state);
      if (wakeAt) this.timers.schedule(run.runId, wakeAt);
    } else {
      this.parked.delete(run.runId);
    }
    // A slot is free again: pick up whatever is due.
    if (!this.stopped) this.wake();
  }

  private onChange(runId: string, change: RunChange | undefined): void {
    const run = this.active.get(runId);
    if (run) return run.wake(change?.version); // ignores its own appends (already folded)
    if (change?.ended) return;
    const parked = this.parked.get(runId);
    if (change && parked && change.version <= parked.version) return; // the append that parked it
    this.wake();
  }

  private adopt(claim: ClaimedRun): void {
    this.timers.cancel(claim.runId);
    const cached = this.parked.get(claim.runId);
    this.parked.delete(claim.runId);
    const run = new ActiveRun(this, claim, cached);
    this.active.set(claim.runId, run);
    void run.start();
  }

  private async claimOne(runId: string): Promise<void> {
    if (this.stopped || this.active.has(runId)) return;
    try {
      const claim = await this.claims.claimOne(runId);
      if (claim && !this.active.has(runId)) this.adopt(claim);
    } catch (error) {
      this.log.warn({ err: error, runId }, 'could not claim a run whose timer fired');
    }
  }

  private async sweep(): Promise<void> {
    await sweepOrgEvents(this.pool, this.store, this.metadata).catch((error: unknown) => this.log.warn({ err: error }, 'organization event sweep failed'));
  }

  /** Extends every held lease; a run whose lease is gone is dropped, one that moved is caught up. */
  private async renew(): Promise<void> {
    const held = [...this.active.values()];
    if (held.length === 0 || this.stopped) return;
    try {
      const renewed = new Map((await this.claims.renew(held.map((run) => run.runId))).map((claim) => [claim.runId, claim]));
      for (const run of held) {
        const claim = renewed.get(run.runId);
        if (this.active.get(run.runId) !== run) continue; // it settled meanwhile
        if (!claim) run.drop();
        else if (run.version !== undefined && claim.streamVersion > run.version) run.wake(claim.streamVersion);
      }
    } catch (error) {
      this.log.warn({ err: error }, 'lease renewal failed');
    }
  }
}
