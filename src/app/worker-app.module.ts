import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { DestinationStream } from 'pino';
import type { Config } from '../config/config';
import { DatabaseModule } from '../database/database.module';
import { ALL_PROJECTIONS } from './projections';
import { loggerModule } from '../http/logging';
import { ConnectorsModule } from '../connectors/connectors.module';
import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import { RunsModule } from '../runs/runs.module';
import { SecretsModule } from '../secrets/secrets.module';
import { RunWorkerModule } from '../worker/run-worker.module';
import { SchedulesModule } from '../schedules/schedules.module';
import { ProjectionWorker } from '../worker/projection-worker.service';
import { MetricsModule } from '../metrics/metrics.module';
import { WorkerProbeServer } from '../metrics/worker-probe.server';
import { AuditModule } from '../audit/audit.module';

/**
 * `thodare worker` and `thodare projector`: no HTTP, only background work, with `/health`,
 * `/ready` and `/metrics` on `THODARE_WORKER_PORT`. `runs`: the run worker, the schedules' loop
 * and the audit checkpointer; `projections`: the async read models (see `Roles.projections`).
 */
@Module({})
export class WorkerAppModule {
  static register(config: Config, databaseUrl: string, catalog: ConnectorCatalog, parts: { runs: boolean; projections: boolean }, logStream?: DestinationStream): DynamicModule {
    return {
      module: WorkerAppModule,
      imports: [
        DatabaseModule.register(config, databaseUrl, ALL_PROJECTIONS),
        CqrsModule.forRoot(),
        MetricsModule.register({ http: false }),
        loggerModule(config.logLevel, logStream),
        ConnectorsModule.register({ http: false, catalog }),
        SecretsModule.register({ http: false }),
        RunsModule.register({ http: false }),
        SchedulesModule.register({ http: false, loop: parts.runs }),
        ...(parts.runs ? [RunWorkerModule] : []),
        AuditModule.register({ http: false, checkpointer: parts.runs }),
      ],
      providers: [...(parts.projections ? [ProjectionWorker] : []), WorkerProbeServer],
    };
  }
}
