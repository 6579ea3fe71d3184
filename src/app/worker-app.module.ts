import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { Config } from '../config/config';
import { DatabaseModule } from '../database/database.module';
import { loggerOptions } from '../http/logging';
import { ProjectionWorker } from '../worker/projection-worker.service';
import { DATABASE_URL } from '../worker/worker.tokens';

/** `thodare worker`: no HTTP, only the background work. */
@Module({})
export class WorkerAppModule {
  static register(config: Config, databaseUrl: string, logStream?: DestinationStream): DynamicModule {
    const { stream, ...pinoOptions } = loggerOptions(config.logLevel, logStream);
    return {
      module: WorkerAppModule,
      imports: [
        DatabaseModule.register(config, databaseUrl),
        CqrsModule.forRoot(),
        LoggerModule.forRoot({ pinoHttp: stream ? [pinoOptions, stream] : pinoOptions }),
      ],
      providers: [{ provide: DATABASE_URL, useValue: databaseUrl }, ProjectionWorker],
    };
  }
}
