import type { Config } from '../config/config';
import type { Connector } from '../domain/connectors/connector';
import { createConnectorCatalog, type ConnectorCatalog } from '../domain/connectors/connector-catalog';
import { connectorProblems, InvalidConnectors } from '../domain/connectors/connector-list';
import { builtinConnectors } from './builtin-catalog';

/**
 * The catalog a process serves: the builtins configured from `config`, then the deployment's
 * own `connectors` (from `startThodare({connectors})` or `--connectors`). Built once at start-up;
 * a list with any problem (a clashing type, something not made by `defineConnector`) fails the
 * start with `InvalidConnectors`, listing every problem.
 */
export function buildCatalog(config: Pick<Config, 'httpAllowHosts' | 'slackBaseUrl'>, connectors: readonly unknown[] = []): ConnectorCatalog {
  const builtins = builtinConnectors({ httpAllowHosts: config.httpAllowHosts, slackBaseUrl: config.slackBaseUrl });
  const problems = connectorProblems(connectors, builtins.map((c) => c.type));
  if (problems.length > 0) throw new InvalidConnectors(problems);
  return createConnectorCatalog([...builtins, ...(connectors as readonly Connector[])]);
}
