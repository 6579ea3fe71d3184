import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Config } from '../config/config';
import { buildCatalog } from '../connectors/connector-registry';
import { InvalidConnectors } from '../domain/connectors/connector-list';

// TypeScript compiles `import()` to `require()` under CommonJS; this one stays a real import.
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

/**
 * The deployment's own connectors from `--connectors` / `THODARE_CONNECTORS` (none when unset):
 * a module, resolved from the working directory, whose default export or `connectors` export is
 * an array. Validated here, before any database starts, so every role fails the same way.
 */
export async function loadConnectors(config: Config): Promise<readonly unknown[]> {
  const source = config.connectorsModule;
  if (!source) return [];
  const file = resolve(source);
  const exported = await load(file, source);
  const list = connectorArray(exported);
  if (!list) throw new InvalidConnectors(['the module must export an array of connectors, as its default export or as `connectors`'], source);
  try {
    buildCatalog(config, list);
  } catch (error) {
    throw error instanceof InvalidConnectors ? new InvalidConnectors(error.problems, source) : error;
  }
  return list;
}

async function load(file: string, source: string): Promise<unknown> {
  try {
    // A deployment's module, named at run time: only a dynamic require can load it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as unknown;
  } catch (error) {
    const code = (error as { code?: string }).code;
    // An ES module Node cannot require (top-level await, or an older Node): import it instead.
    if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') {
      return importModule(pathToFileURL(file).href).catch((cause: unknown) => cannotLoad(source, cause));
    }
    return cannotLoad(source, error);
  }
}

function cannotLoad(source: string, cause: unknown): never {
  const message = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
  throw new InvalidConnectors([`cannot load the module: ${message}`], source);
}

function connectorArray(exported: unknown): readonly unknown[] | undefined {
  if (Array.isArray(exported)) return exported;
  const module = exported as { default?: unknown; connectors?: unknown } | null | undefined;
  if (Array.isArray(module?.default)) return module.default;
  if (Array.isArray(module?.connectors)) return module.connectors;
  // `export default` from an ES module that was compiled to CommonJS and then imported.
  const nested = (module?.default as { default?: unknown; connectors?: unknown } | undefined) ?? undefined;
  if (Array.isArray(nested?.default)) return nested.default;
  if (Array.isArray(nested?.connectors)) return nested.connectors;
  return undefined;
}
