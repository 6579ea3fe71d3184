import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { LoggerModule } from 'nestjs-pino';
import type { Config } from '../config/config';
import { DatabaseModule } from '../database/database.module';
import { HealthController } from '../health/health.controller';
import { DocsController } from '../http/docs.controller';
import { ErrorFilter } from '../http/error.filter';
import { ValidationInterceptor } from '../http/validation.interceptor';
import { ProjectionWorker } from '../worker/projection-worker.service';
import { DATABASE_URL } from '../worker/worker.tokens';

/** Which parts of Thodare this process runs (`thodare start` = both). */
export interface Roles {
  api: boolean;
  worker: boolean;
}

@Module({})
export class AppModule {
  static register(config: Config, databaseUrl: string, roles: Roles): DynamicModule {
    const workerProviders: Provider[] = roles.worker ? [ProjectionWorker] : [];
    return {
      module: AppModule,
      imports: [
        DatabaseModule.register(config, databaseUrl),
        CqrsModule.forRoot(),
        DiscoveryModule,
        // The HTTP adapter owns the pino instance (request ids, redaction); Nest's Logger writes through it.
        LoggerModule.forRoot({ useExisting: true }),
      ],
      controllers: roles.api ? [HealthController, DocsController] : [],
      providers: [
        { provide: DATABASE_URL, useValue: databaseUrl },
        { provide: APP_FILTER, useClass: ErrorFilter },
        { provide: APP_INTERCEPTOR, useClass: ValidationInterceptor },
        ...workerProviders,
      ],
    };
  }
}
