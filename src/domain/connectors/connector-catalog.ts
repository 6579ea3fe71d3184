import type { Connector } from './connector';
import { nearestName, normalizeName } from './edit-distance';

/**
 * The registry of connectors a deployment offers. Immutable once built; `apply` and validation
 * read it, the HTTP layer renders it with `catalog-view`.
 */
export interface ConnectorCatalog {
  get(type: string): Connector | undefined;
  /** In registration order. */
  list(): readonly Connector[];
  /** The registered type nearest to a mistyped one (aliases, substrings, edit distance), if any. */
  nearestType(name: string): string | undefined;
  /** Every hidden param name of every connector: used to redact ops whose type is unknown. */
  readonly allHiddenParams: ReadonlySet<string>;
}

/** Thrown at start-up when two connectors share a type. */
export class DuplicateConnectorType extends Error {
  readonly code = 'duplicate_connector_type';
  constructor(type: string) {
    super(`connector type '${type}' is registered twice`);
    this.name = 'DuplicateConnectorType';
  }
}

/** Builds a catalog; throws `DuplicateConnectorType` on a repeated type. */
export function createConnectorCatalog(connectors: readonly Connector[]): ConnectorCatalog {
  const byType = new Map<string, Connector>();
  const aliases = new Map<string, string>();
  const allHiddenParams = new Set<string>();
  for (const connector of connectors) {
    if (byType.has(connector.type)) throw new DuplicateConnectorType(connector.type);
    byType.set(connector.type, connector);
    for (const alias of connector.aliases ?? []) aliases.set(normalizeName(alias), connector.type);
    for (const param of connector.hiddenParams) allHiddenParams.add(param);
  }
  const types = [...byType.keys()];
  const list = [...byType.values()];
  const nearest = new Map<string, string | undefined>();
  return {
    get: (type) => byType.get(type),
    list: () => list,
    nearestType: (name) => {
      if (nearest.has(name)) return nearest.get(name);
      const found = nearestName(name, types, aliases);
      if (nearest.size < 1_000 && name.length <= 200) nearest.set(name, found);
      return found;
    },
    allHiddenParams,
  };
}
