import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import type { BlockSpec, SpecLookup } from '../domain/run/block-spec';

/**
 * How a run start sees the deployment's catalog: each connector as the block spec pinned in
 * `RunStarted` (kind, retry, timeout, declared output names). Specs are derived once per type.
 */
export function catalogSpecs(catalog: ConnectorCatalog): SpecLookup {
  const specs = new Map<string, BlockSpec | undefined>();
  return (type) => {
    if (specs.has(type)) return specs.get(type);
    const connector = catalog.get(type);
    const spec: BlockSpec | undefined = connector && {
      kind: connector.kind,
      retry: connector.retry,
      ...(connector.timeoutMs !== undefined ? { timeoutMs: connector.timeoutMs } : {}),
      outputs: Object.keys(connector.outputs.shape),
    };
    if (specs.size < 10_000) specs.set(type, spec);
    return spec;
  };
}
