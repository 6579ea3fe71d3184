import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { CONNECTOR_CATALOG } from './catalog.token';
import { buildCatalog } from './connector-registry';
import { ConnectorsController } from './connectors.controller';

/**
 * The connector catalog, global so the workflow and run modules inject `CONNECTOR_CATALOG`
 * without importing this module; `http: true` also serves `/api/connectors`.
 */
@Global()
@Module({})
export class ConnectorsModule {
  static register(options: { http: boolean }): DynamicModule {
    return {
      module: ConnectorsModule,
      controllers: options.http ? [ConnectorsController] : [],
      providers: [{ provide: CONNECTOR_CATALOG, inject: [CONFIG], useFactory: (config: Config) => buildCatalog(config) }],
      exports: [CONNECTOR_CATALOG],
    };
  }
}
