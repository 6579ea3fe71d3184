import type { DestinationStream } from 'pino';
import { resolveDatabase } from './cli/database';
import { ConfigError, loadConfig, type Config } from './config/config';
import { settingsAsVariables, withOptionNames, type ThodareSettings } from './config/config-options';
import { buildCatalog } from './connectors/connector-registry';
import { migrate } from './database/migrate';
import type { Connector } from './domain/connectors/connector';
import { startApplication } from './main';
import type { WorkerHooks } from './tracing/hooks';

/** Any connector made by `defineConnector`, whatever its params and outputs. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- run() is contravariant in its params: only `any` accepts every connector
export type AnyConnector = Connector<any, any>;

/** The roles a process can take. `projector`: the async read models alone (for workers started with `workerProjections: false`). */
const ROLES = ['api', 'worker', 'projector'] as const;
export type ThodareRole = (typeof ROLES)[number];

export interface ThodareOptions extends ThodareSettings {
  /** Your own connectors, served next to the builtins. A clashing type or a bad definition fails the start (`InvalidConnectors`). */
  connectors?: readonly AnyConnector[];
  /** What this process runs (default both, as `thodare start`). */
  roles?: readonly ThodareRole[];
  /** Where logs go (default stdout); set `logLevel: 'silent'` to have none. */
  logStream?: DestinationStream;
  /** The run worker's lifecycle hooks (`src/tracing/hooks.ts`): called, never awaited; what they throw is logged and ignored. */
  hooks?: WorkerHooks | readonly WorkerHooks[];
}

export interface Thodare {
  /** The API's base URL; without the API role, the process's `/health`, `/ready` and `/metrics`. */
  url: string;
  /** Stops the app (steps in flight get `shutdownGraceMs`), then the embedded Postgres if one was started. */
  close(): Promise<void>;
}

/**
 * Starts Thodare in this process, as `thodare start` does: options over the environment
 * (validated by the same parser: a bad option is one `ConfigError` listing every problem), the
 * embedded Postgres when there is no `databaseUrl`, migrations, then the roles. Installs no
 * signal handlers: the embedding program calls `close()`.
 */
export async function startThodare(options: ThodareOptions = {}): Promise<Thodare> {
  const { connectors = [], roles = ['api', 'worker'], logStream, hooks, ...settings } = options;
  if (roles.length === 0 || roles.some((role) => !ROLES.includes(role))) {
    const named = ROLES.map((role) => `'${role}'`);
    throw new ConfigError([`roles: expected ${named.slice(0, -1).join(', ')} and/or ${named.at(-1)} (got ${JSON.stringify(roles)})`]);
  }
  const config = configFrom(settings);
  // Before the database starts: a bad list should not cost an embedded Postgres boot.
  buildCatalog(config, connectors);
  const database = await resolveDatabase(config);
  try {
    await migrate(database.url, config.schema);
    const running = await startApplication({
      config,
      databaseUrl: database.url,
      roles: { api: roles.includes('api'), worker: roles.includes('worker'), ...(roles.includes('projector') ? { projections: true } : {}) },
      connectors,
      ...(logStream ? { logStream } : {}),
      ...(hooks ? { hooks } : {}),
    });
    let closed: Promise<void> | undefined;
    return {
      url: running.url ?? running.probeUrl ?? '',
      close: () =>
        (closed ??= running.close().finally(async () => {
          await database.embedded?.stop();
        })),
    };
  } catch (error) {
    await database.embedded?.stop().catch(() => undefined);
    throw error;
  }
}

function configFrom(settings: Record<string, unknown>): Config {
  try {
    return loadConfig(settingsAsVariables(settings));
  } catch (error) {
    throw error instanceof ConfigError ? withOptionNames(error) : error;
  }
}
