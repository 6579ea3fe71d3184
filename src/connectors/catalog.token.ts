/**
 * Injection token of the deployment's `ConnectorCatalog` (builtins + registered connectors),
 * provided globally by `ConnectorsModule`:
 * `constructor(@Inject(CONNECTOR_CATALOG) catalog: ConnectorCatalog)`.
 */
export const CONNECTOR_CATALOG = Symbol('ConnectorCatalog');
