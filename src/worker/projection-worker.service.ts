import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { EventStore } from '../event-store/event-store';
import { Notifier } from '../event-store/notifier';
import { SubscriptionRunner } from '../event-store/subscription-runner';
import { RunChanges } from '../runs/run-changes';

/** Keeps the async read models (analytics, logs, …) caught up in worker processes. */
@Injectable()
export class ProjectionWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('projections');
  private runners: SubscriptionRunner[] = [];

  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(Notifier) private readonly notifier: Notifier,
    @Inject(RunChanges) private readonly runs: RunChanges,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const log = (message: string, error?: unknown) => this.logger.warn({ err: error }, message);
    const asyncProjections = this.store.projections.filter((p) => p.mode === 'async');
    // One runner per poll interval: a projection with a freshness target (the audit sealer) polls
    // faster than the rest, since most appends wake nobody (NOTIFY is kept off the hot path).
    const byInterval = new Map<number, typeof asyncProjections>();
    for (const projection of asyncProjections) {
      const interval = Math.min(projection.pollIntervalMs ?? Infinity, this.config.pollIntervalMs);
      byInterval.set(interval, [...(byInterval.get(interval) ?? []), projection]);
    }
    // Passes give way to the runs this process records (see `YIELD_QUIET_MS`), for no longer
    // than the tightest bound a projection of the runner names.
    this.runners = [...byInterval].map(([pollIntervalMs, projections]) => {
      const bounds = projections.flatMap((p) => (p.maxYieldMs === undefined ? [] : [p.maxYieldMs]));
      const maxYieldMs = bounds.length > 0 ? Math.min(...bounds) : undefined;
      return new SubscriptionRunner(this.pool, this.store, projections, this.notifier, { pollIntervalMs, log, yieldTo: this.runs, maxYieldMs });
    });
    for (const runner of this.runners) await runner.start();
    await this.notifier.start();
    this.logger.log(`projecting ${asyncProjections.map((p) => p.name).join(', ')}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.runners.map((runner) => runner.stop()));
  }
}
