import { Global, Inject, Module, OnApplicationShutdown, type DynamicModule } from '@nestjs/common';
import { Pool } from 'pg';
import type { Config } from '../config/config';
import { EventStore } from '../event-store/event-store';
import { ALL_PROJECTIONS } from '../projections/all-projections';
import { createPool } from './pool';

export const CONFIG = Symbol('Config');

/** Closes the pool last, after every other provider has shut down. */
class PoolCloser implements OnApplicationShutdown {
  constructor(@Inject(Pool) private readonly pool: Pool) {}
  async onApplicationShutdown(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}

/** The configuration, the pg Pool and the event store, shared by every module. */
@Global()
@Module({})
export class DatabaseModule {
  static register(config: Config, databaseUrl: string): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: Pool, useFactory: () => createPool(databaseUrl, config.schema, config.poolSize) },
        {
          provide: EventStore,
          inject: [Pool],
          useFactory: (pool: Pool) => new EventStore(pool, eventsChannel(config.schema), ALL_PROJECTIONS),
        },
        PoolCloser,
      ],
      exports: [CONFIG, Pool, EventStore],
    };
  }
}

/** The NOTIFY channel of one deployment's event store. */
export function eventsChannel(schema: string): string {
  return `${schema}.events`;
}
