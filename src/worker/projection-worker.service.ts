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
    // One runner for every async projection: a pass reads the events once for all of those at the
    // same checkpoint (the audit sealer had a runner of its own, for its faster poll, and a W3
    // burst's 2,400 events were read and parsed twice: 11-74 ms of this process's CPU apiece,
    // plus the database's). The runner polls as often as the most demanding asks, and each keeps
    // its own bound on giving way to the runs: a pass the sealer's forces applies it alone.
    const projections = this.store.projections.filter((p) => p.mode === 'async');
    this.runner = new SubscriptionRunner(this.pool, this.store, projections, this.notifier, { pollIntervalMs: this.config.pollIntervalMs, log, yieldTo: this.runs });
    await this.runner.start();
    await this.notifier.start();
    this.logger.log(`projecting ${projections.map((p) => p.name).join(', ')}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner?.stop();
  }
}
