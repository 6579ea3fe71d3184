import type { Config } from '../config/config';
import type { Connector } from '../domain/connectors/connector';
import { createConnectorCatalog, type ConnectorCatalog } from '../domain/connectors/connector-catalog';
import { builtinConnectors } from './builtin-catalog';

const registered: Connector[] = [];

/**
 * Adds a deployment's own connectors to the catalog, next to the builtins. Call it before the
 * application starts (the catalog is built once, at start-up); a type that clashes with a
 * builtin or another registered connector fails the start with `duplicate_connector_type`.
 */
export function registerConnectors(...connectors: Connector[]): void {
  registered.push(...connectors);
}

/** The catalog a process serves: the builtins configured from `config`, then registered ones. */
export function buildCatalog(config: Pick<Config, 'httpAllowHosts' | 'slackBaseUrl'>): ConnectorCatalog {
  return createConnectorCatalog([
    ...builtinConnectors({ httpAllowHosts: config.httpAllowHosts, slackBaseUrl: config.slackBaseUrl }),
    ...registered,
  ]);
}
