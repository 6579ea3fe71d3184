import { keepsReadModels, type Roles } from '../app/app.module';
import type { Config } from '../config/config';
import { migrate } from '../database/migrate';
import { startApplication } from '../main';
import { loadConnectors } from './connectors-module';
import { displayUrl, psqlUrl, resolveDatabase } from './database';
import { onShutdownSignals } from './shutdown';

/**
 * `thodare start|api|worker|projector`: resolve the database, migrate, run the roles, and on
 * SIGINT/SIGTERM close the app first and the embedded database last (no orphaned postgres).
 */
export async function serve(config: Config, roles: Roles, print: (line: string) => void): Promise<void> {
  const connectors = await loadConnectors(config);
  const database = await resolveDatabase(config);
  try {
    print(database.embedded ? `database: embedded Postgres in ${database.embedded.dataDir} (psql '${psqlUrl(database.embedded.url, config.schema)}')` : `database: ${displayUrl(database)}`);
    const applied = await migrate(database.url, config.schema);
    print(`schema "${config.schema}": ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
    const running = await startApplication({ config, databaseUrl: database.url, roles, connectors });
    // Signals are handled before readiness is announced: a supervisor that stops the process the
    // moment it reads the line must get a clean shutdown, not the default kill.
    onShutdownSignals(running, { graceMs: config.shutdownGraceMs, print, ...(database.embedded ? { cleanup: () => database.embedded!.stop() } : {}) });
    const probes = running.probeUrl ? ` (health, ready, metrics at ${running.probeUrl})` : '';
    print(
      [
        running.url && `api: ${running.url} (docs at ${running.url}/docs)`,
        roles.worker && `worker: running${probes}${keepsReadModels(roles, config) ? '' : ', read models left to `thodare projector`'}`,
        !roles.api && !roles.worker && `projector: running${probes}`,
      ]
        .filter(Boolean)
        .join('; '),
    );
  } catch (error) {
    await database.embedded?.stop().catch(() => undefined);
    throw error;
  }
}
