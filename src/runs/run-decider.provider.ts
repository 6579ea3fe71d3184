import type { Provider } from '@nestjs/common';
import { CONNECTOR_CATALOG } from '../connectors/catalog.token';
import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import type { SpecLookup } from '../domain/run/block-spec';
import { createRunDecider } from '../domain/run/run.decider';
import { setRunProjectionSpecLookup } from '../projections/run-fold';

/** Injection token of the process's `RunDecider`, bound to the deployment's connector catalog. */
export const RUN_DECIDER = Symbol('RunDecider');

/** How the run domain sees the catalog: a connector is its own block spec (kind, retry, timeout). */
export function catalogSpecs(catalog: ConnectorCatalog): SpecLookup {
  return (type) => catalog.get(type);
}

/** Provides {@link RUN_DECIDER}; the run projections fold with the same lookup. */
export const runDeciderProvider: Provider = {
  provide: RUN_DECIDER,
  inject: [CONNECTOR_CATALOG],
  useFactory: (catalog: ConnectorCatalog) => {
    const specOf = catalogSpecs(catalog);
    setRunProjectionSpecLookup(specOf);
    return createRunDecider(specOf);
  },
};
