import { resolve } from 'node:path';
import type { Config } from '../config/config';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../database/embedded-postgres';

export interface ResolvedDatabase {
  /** What this process connects with (the embedded cluster's socket when it has one). */
  url: string;
  embedded: EmbeddedDatabase | undefined;
}

/** `DATABASE_URL` when set; otherwise the embedded cluster in `<THODARE_DATA_DIR>/pg`. */
export async function resolveDatabase(config: Config): Promise<ResolvedDatabase> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: undefined };
  const embedded = await startEmbeddedPostgres({ dataDir: resolve(config.dataDir, 'pg'), port: config.embeddedPgPort });
  return { url: embedded.socketUrl ?? embedded.url, embedded };
}

/**
 * The embedded development database's URL as `psql` takes it, landing in the deployment's
 * schema. Its password is the fixed local one (the cluster listens on 127.0.0.1 only), so it is
 * printed in full; a `DATABASE_URL` is printed with `displayUrl`.
 */
export function psqlUrl(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-csearch_path=${schema}`);
  return parsed.toString();
}

/** The database's URL for printing (the embedded cluster's TCP one), with its password hidden. */
export function displayUrl(database: ResolvedDatabase): string {
  try {
    const parsed = new URL(database.embedded?.url ?? database.url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}
