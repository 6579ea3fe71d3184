import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import type { DestinationStream } from 'pino';
import type { Config } from '../config/config';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { AuthGuard } from '../auth/auth.guard';
import { AuthModule } from '../auth/auth.module';
import { ConnectorsModule } from '../connectors/connectors.module';
import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import { DatabaseModule } from '../database/database.module';
import { ALL_PROJECTIONS } from './projections';
import { HealthController } from '../health/health.controller';
import { RootController } from '../health/root.controller';
import { DocsController } from '../http/docs.controller';
import { ErrorFilter } from '../http/error.filter';
import { loggerModule } from '../http/logging';
import { ValidationGuard } from '../http/validation.guard';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { MetricsModule } from '../metrics/metrics.module';
import { SecretsModule } from '../secrets/secrets.module';
import { OrganizationsModule } from '../organizations/organizations.module';
import { ProjectionWorker } from '../worker/projection-worker.service';
import { WorkflowsModule } from '../workflows/workflows.module';
import { RunsModule } from '../runs/runs.module';
import { RunWorkerModule } from '../worker/run-worker.module';
import { SchedulesModule } from '../schedules/schedules.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { AuditModule } from '../audit/audit.module';
import { McpModule } from '../mcp/mcp.module';
import { ConsoleModule } from '../console/console.module';

/** Which parts of Thodare this process runs (`thodare start` = the API and the worker). */
export interface Roles {
  api: boolean;
  worker: boolean;
  /**
   * The async read models (run logs, analytics, the audit trail's seals, event counts), kept
   * caught up by a `ProjectionWorker`. Unset: with the worker, unless `THODARE_WORKER_PROJECTIONS`
   * is `false` (`thodare projector` then keeps them in a process of its own). Any number of
   * processes may keep them: each projection is applied by one at a time.
   */
  projections?: boolean;
}

/** Whether this process keeps the async read models caught up (see `Roles.projections`). */
export function keepsReadModels(roles: Roles, config: Pick<Config, 'workerProjections'>): boolean {
  return roles.projections ?? (roles.worker && config.workerProjections);
}

@Module({})
export class AppModule {
  static register(config: Config, databaseUrl: string, roles: Roles, catalog: ConnectorCatalog, logStream?: DestinationStream): DynamicModule {
    const readModelProviders: Provider[] = keepsReadModels(roles, config) ? [ProjectionWorker] : [];
    return {
      module: AppModule,
      imports: [
        DatabaseModule.register(config, databaseUrl, ALL_PROJECTIONS, { api: roles.api }),
        CqrsModule.forRoot(),
        DiscoveryModule,
        MetricsModule.register({ http: roles.api }),
        loggerModule(config.logLevel, logStream),
        ...(roles.api ? [RateLimitModule] : []),
        AuthModule.register({ http: roles.api }),
        ApiKeysModule.register({ http: roles.api }),
        OrganizationsModule.register({ http: roles.api }),
        ConnectorsModule.register({ http: roles.api, catalog }),
        SecretsModule.register({ http: roles.api }),
        ...(roles.api ? [WorkflowsModule] : []),
        RunsModule.register({ http: roles.api }),
        SchedulesModule.register({ http: roles.api, loop: roles.worker }),
        ...(roles.api ? [WebhooksModule] : []),
        AuditModule.register({ http: roles.api, checkpointer: roles.worker }),
        ...(roles.worker ? [RunWorkerModule] : []),
        ...(roles.api && config.mcp ? [McpModule] : []),
        ...(roles.api ? [ConsoleModule] : []),
      ],
      controllers: roles.api ? [HealthController, RootController, DocsController] : [],
      providers: [
        { provide: APP_FILTER, useClass: ErrorFilter },
        // APP_GUARDs run in the order listed here. The auth guard comes FIRST: it answers 401/403
        // (honouring @Public and @RequireRole) and sets request.principal, which the guards after
        // it (RateLimitGuard) key on. Validation comes last: a refused request still counts.
        ...(roles.api ? [{ provide: APP_GUARD, useClass: AuthGuard }] : []),
        ...(roles.api ? [{ provide: APP_GUARD, useClass: RateLimitGuard }] : []),
        ...(roles.api ? [{ provide: APP_GUARD, useClass: ValidationGuard }] : []),
        ...readModelProviders,
      ],
    };
  }
}
