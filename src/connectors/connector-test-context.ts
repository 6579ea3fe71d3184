import type { ConnectorContext } from '../domain/connectors/connector';

/** A `ConnectorContext` for connector tests: no secrets, silent log, optional abort signal. */
export function testContext(signal: AbortSignal = new AbortController().signal): ConnectorContext {
  return {
    runId: 'run-1',
    blockId: 'block-1',
    attempt: 1,
    idempotencyKey: 'run-1:block-1:1',
    signal,
    secrets: {},
    log: () => undefined,
  };
}
