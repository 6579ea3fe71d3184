import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { EventStore } from '../event-store/event-store';
import { Notifier } from '../event-store/notifier';
import { SubscriptionRunner } from '../event-store/subscription-runner';

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
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const log = (message: string, error?: unknown) => this.logger.warn({ err: error }, message);
    const asyncProjections = this.store.projections.filter((p) => p.mode === 'async');
    this.runner = new SubscriptionRunner(this.pool, this.store, asyncProjections, this.notifier, {
      pollIntervalMs: this.config.pollIntervalMs,
      log,
    });
    await this.runner.start();
    await this.notifier.start();
    this.logger.log(`projecting ${asyncProjections.map((p) => p.name).join(', ')}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner?.stop();
  }
}
