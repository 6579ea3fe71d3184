import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';

/**
 * Integration tests need a real Postgres: DATABASE_URL when it is set, otherwise one embedded
 * cluster for the whole run (each test file then makes and drops its own schema).
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) return;
  const parent = mkdtempSync(join(tmpdir(), 'thodare-test-'));
  const db = await startEmbeddedPostgres({
    dataDir: join(parent, 'pg'),
    persistent: false,
  });
  process.env.DATABASE_URL = db.url;
  (globalThis as { __thodareEmbedded?: { stop(): Promise<void> } }).__thodareEmbedded = {
    async stop() {
      await db.stop();
      rmSync(parent, { recursive: true, force: true });
    },
  };
}
