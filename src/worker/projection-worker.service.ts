import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { EventStore } from '../event-store/event-store';
import { Notifier } from '../event-store/notifier';
import type { Projection } from '../event-store/projection';
import { SubscriptionRunner } from '../event-store/subscription-runner';
import { RunChanges } from '../runs/run-changes';

/** Keeps the async read models (analytics, logs, …) caught up in worker processes. */
@Injectable()
export class ProjectionWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('projections');
  private runner: SubscriptionRunner | undefined;

  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(Notifier) private readonly notifier: Notifier,
    @Inject(RunChanges) private readonly runs: RunChanges,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const log = (message: string, error?: unknown) => this.logger.warn({ err: error }, message);
    const { projections, ...settings } = asyncProjectionRunner(this.store.projections, this.config.pollIntervalMs);
    this.runner = new SubscriptionRunner(this.pool, this.store, projections, this.notifier, { ...settings, log, yieldTo: this.runs });
    await this.runner.start();
    await this.notifier.start();
    this.logger.log(`projecting ${projections.map((p) => p.name).join(', ')}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner?.stop();
  }
}

/**
 * The async projections of `all` and how their one runner runs them. One runner for them all: a
 * pass reads the events once for every projection at the same checkpoint (two runners, the audit
 * sealer's and the rest, each read a W3 burst's 2,400 events and parsed them: 11-74 ms of this
 * process's CPU apiece, plus the database's). It keeps the tightest freshness any of them asks
 * for: it polls as often as the most frequent (plain appends notify nobody), and gives way to the
 * runs this process records (see `YIELD_QUIET_MS`) no longer than the shortest bound.
 */
export function asyncProjectionRunner(all: readonly Projection[], pollIntervalMs: number): { projections: Projection[]; pollIntervalMs: number; maxYieldMs?: number } {
  const projections = all.filter((p) => p.mode === 'async');
  const bounds = projections.flatMap((p) => (p.maxYieldMs === undefined ? [] : [p.maxYieldMs]));
  return {
    projections,
    pollIntervalMs: Math.min(pollIntervalMs, ...projections.map((p) => p.pollIntervalMs ?? Infinity)),
    ...(bounds.length > 0 ? { maxYieldMs: Math.min(...bounds) } : {}),
  };
}
