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
  const all = [...builtins, ...(connectors as readonly Connector[])];
  compileValidators(all);
  return createConnectorCatalog(all);
}

/**
 * zod compiles an object schema's parser on its first parse: ~0.5 ms a schema on this machine,
 * then ~0.03 ms a parse. The schemas requests parse — a block's params when a patch or a start
 * validates the workflow, the params a step is called with, a trigger's input — are compiled here,
 * once per process, rather than by the first request that uses each connector after a deploy.
 * Parsing `{}` compiles them; the result is thrown away (and so is anything a refinement throws).
 */
function compileValidators(connectors: readonly Connector[]): void {
  for (const connector of connectors) {
    for (const schema of [connector.params, connector.agentParams, connector.inputSchema]) {
      try {
        schema?.safeParse({});
      } catch {
        // A refinement that cannot take `{}`: it compiles on its first real parse instead.
      }
    }
  }
}
