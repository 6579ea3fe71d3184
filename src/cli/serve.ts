import type { Roles } from '../app/app.module';
import type { Config } from '../config/config';
import { migrate } from '../database/migrate';
import { startThodare } from '../main';
import { displayUrl, resolveDatabase } from './database';

/**
 * `thodare start|api|worker`: resolve the database, migrate, run the roles, and on
 * SIGINT/SIGTERM close the app first and the embedded database last (no orphaned postgres).
 */
export async function serve(config: Config, roles: Roles, print: (line: string) => void): Promise<void> {
  const database = await resolveDatabase(config);
  let stopping = false;
  try {
    print(database.embedded ? `database: embedded Postgres in ${database.embedded.dataDir} (${displayUrl(database.url)})` : `database: ${displayUrl(database.url)}`);
    const applied = await migrate(database.url, config.schema);
    print(`schema "${config.schema}": ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
    const running = await startThodare({ config, databaseUrl: database.url, roles });
    print([running.url && `api: ${running.url} (docs at ${running.url}/docs)`, roles.worker && 'worker: running'].filter(Boolean).join('; '));
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      print(`${signal}: shutting down`);
      await running.close().catch(() => undefined);
      await database.embedded?.stop().catch(() => undefined);
      process.exit(0);
    };
    process.on('SIGINT', () => void shutdown('SIGINT'));
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
  } catch (error) {
    await database.embedded?.stop().catch(() => undefined);
    throw error;
  }
}
