import { Global, Inject, Logger, Module, OnApplicationShutdown, type DynamicModule } from '@nestjs/common';
import { Pool } from 'pg';
import type { Config } from '../config/config';
import { EventStore } from '../event-store/event-store';
import { Notifier } from '../event-store/notifier';
import type { Projection } from '../event-store/projection';
import { DatabaseAvailability } from './database-availability';
import { createPool, type SessionLimits } from './pool';
import { ReadReplica } from './read-replica';

/** Connections to the read replica: audit exports only, each reading a page at a time. */
const READ_REPLICA_POOL_SIZE = 4;

export const CONFIG = Symbol('Config');

/** Closes the pool and the listener connection when the application shuts down. */
class ConnectionsCloser implements OnApplicationShutdown {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(Notifier) private readonly notifier: Notifier,
    @Inject(ReadReplica) private readonly replica: ReadReplica,
  ) {}
  async onApplicationShutdown(): Promise<void> {
    await this.notifier.stop();
    await this.pool.end().catch(() => undefined);
    await this.replica.close();
  }
}

/**
 * The configuration, the pg Pool, the event store and the process's one LISTEN connection
 * (`Notifier`: projections, the run worker, `?waitMs=` and SSE all subscribe to it; each
 * consumer registers its channel handlers and calls `start()`, which connects once).
 */
@Global()
@Module({})
export class DatabaseModule {
  /**
   * `projections`: the application's read models (the event store runs the inline ones in its
   * appends). `api`: the process serves HTTP, so its statements are bounded (see `sessionLimits`).
   */
  static register(config: Config, databaseUrl: string, projections: readonly Projection[], options: { api: boolean } = { api: false }): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: Pool, useFactory: () => createPool(databaseUrl, config.schema, config.poolSize, config.dbConnectTimeoutMs, sessionLimits(config, options.api)) },
        {
          provide: DatabaseAvailability,
          inject: [Pool],
          useFactory: (pool: Pool) => {
            const logger = new Logger('database');
            return new DatabaseAvailability({ warn: (data, message) => logger.warn(data, message), log: (data, message) => logger.log(data, message) }).watch(pool);
          },
        },
        {
          provide: ReadReplica,
          inject: [Pool],
          useFactory: (pool: Pool) =>
            new ReadReplica(config.readReplicaUrl ? createPool(config.readReplicaUrl, config.schema, READ_REPLICA_POOL_SIZE, config.dbConnectTimeoutMs, sessionLimits(config, options.api)) : undefined, pool),
        },
        {
          provide: EventStore,
          inject: [Pool],
          useFactory: (pool: Pool) => new EventStore(pool, eventsChannel(config.schema), projections),
        },
        {
          provide: Notifier,
          useFactory: () => {
            const logger = new Logger('listener');
            return new Notifier({ url: databaseUrl, applicationName: `thodare:${config.schema}`, log: (message, error) => logger.warn({ err: error }, message) });
          },
        },
        ConnectionsCloser,
      ],
      exports: [CONFIG, Pool, EventStore, Notifier, DatabaseAvailability, ReadReplica],
    };
  }
}

/**
 * A request must fail within its timeout, not hang, when the database is slow or partitioned.
 * `thodare worker` sets none: its loops ride out outages on their own (see `DatabaseOutage`) and
 * nothing there waits on an HTTP client.
 */
function sessionLimits(config: Config, api: boolean): SessionLimits {
  if (!api) return {};
  return { statementTimeoutMs: config.statementTimeoutMs, queryTimeoutMs: config.queryTimeoutMs, idleInTransactionTimeoutMs: config.idleInTransactionTimeoutMs };
}

/** The NOTIFY channel of one deployment's event store. */
export function eventsChannel(schema: string): string {
  return `${schema}.events`;
}
