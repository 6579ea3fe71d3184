import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import { CONNECTOR_CATALOG } from './catalog.token';
import { ConnectorsController } from './connectors.controller';

/**
 * The connector catalog, global so the workflow and run modules inject `CONNECTOR_CATALOG`
 * without importing this module; `http: true` also serves `/api/connectors`. The catalog is built
 * (and its connector list validated) before Nest starts: see `buildCatalog`.
 */
@Global()
@Module({})
export class ConnectorsModule {
  static register(options: { http: boolean; catalog: ConnectorCatalog }): DynamicModule {
    return {
      module: ConnectorsModule,
      controllers: options.http ? [ConnectorsController] : [],
      providers: [{ provide: CONNECTOR_CATALOG, useValue: options.catalog }],
      exports: [CONNECTOR_CATALOG],
    };
  }
}
