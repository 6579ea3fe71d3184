import { Global, Module, type DynamicModule } from '@nestjs/common';
import { Pool } from 'pg';
import { EventStore } from '../event-store/event-store';
import { RUN_METRICS } from '../runs/run-metrics';
import { WORKER_METRICS } from '../worker/worker-metrics';
import { HttpMetricsHook } from './http-metrics.hook';
import { MetricsController } from './metrics.controller';
import { ThodareMetrics } from './thodare-metrics';

/**
 * One `ThodareMetrics` per application, lent to the runs and the worker through their ports.
 * `http`: serve `/metrics` and count requests (the API); a worker-only process serves its
 * metrics on its probe port instead (see `WorkerProbeServer`).
 */
@Global()
@Module({})
export class MetricsModule {
  static register(options: { http: boolean }): DynamicModule {
    return {
      module: MetricsModule,
      controllers: options.http ? [MetricsController] : [],
      providers: [
        {
          provide: ThodareMetrics,
          inject: [Pool, EventStore],
          useFactory: (pool: Pool, store: EventStore) => new ThodareMetrics(pool, store.projections.filter((p) => p.mode === 'async').map((p) => p.name)),
        },
        { provide: WORKER_METRICS, useExisting: ThodareMetrics },
        { provide: RUN_METRICS, useExisting: ThodareMetrics },
        ...(options.http ? [HttpMetricsHook] : []),
      ],
      exports: [ThodareMetrics, WORKER_METRICS, RUN_METRICS],
    };
  }
}
