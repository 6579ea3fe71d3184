/** `thodare`: the library entry (issue 12). */
export * from './authoring';
export { startThodare, type AnyConnector, type Thodare, type ThodareOptions, type ThodareRole } from './library';
export type { ThodareSettings } from './config/config-options';
export { ConfigError } from './config/config';
export { defineConnector, InvalidConnectorDefinition, type DefineConnectorInput } from './domain/connectors/define-connector';
export { hidden, userOnly } from './domain/connectors/visibility';
export { ConnectorError } from './domain/connectors/connector-error';
export { InvalidConnectors } from './domain/connectors/connector-list';
export type { Connector, ConnectorContext, ConnectorKind, RetryPolicy } from './domain/connectors/connector';
export type { RunEndHookInfo, RunHookInfo, StepAttemptHookInfo, StepAttemptHookResult, StepRetryHookInfo, WorkerHooks } from './tracing/hooks';
