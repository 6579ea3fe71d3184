import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Client } from 'pg';
import { renderAnalyticsDocs } from '../analytics/analytics-docs';
import { grantAnalytics, revokeAnalytics } from '../analytics/analytics-grants';
import { analyticsSchemaName, quoteIdent } from '../analytics/analytics-schema';
import type { Config } from '../config/config';
import { migrate } from '../database/migrate';
import { createPool } from '../database/pool';
import { resolveDatabase } from './database';

type Print = (line: string) => void;

/** `thodare analytics grant <role> [--org <id>] [--password <pw>]`. */
export async function analyticsGrant(config: Config, role: string, options: { org?: string; password?: string }, print: Print): Promise<void> {
  await withPool(config, async (pool) => {
    const granted = await grantAnalytics(pool, config.schema, { role, ...options });
    const scope = granted.organizationId ? `organization ${granted.organizationId} only` : 'every organization';
    print(`${granted.createdRole ? 'created' : 'updated'} login role ${role}: reads ${granted.analyticsSchema} (${scope}), nothing else`);
    if (granted.generatedPassword) print(`password (shown once): ${granted.generatedPassword}`);
  });
}

/** `thodare analytics revoke <role>`. */
export async function analyticsRevoke(config: Config, role: string, print: Print): Promise<void> {
  await withPool(config, async (pool) => {
    const { revoked, dropped } = await revokeAnalytics(pool, config.schema, role);
    print(`${revoked ? 'revoked' : 'no grant for'} ${role} on ${analyticsSchemaName(config.schema)}${dropped ? '; role dropped' : ''}`);
  });
}

/**
 * `thodare analytics docs [--out <file>]`: the contract documentation of this build, rendered
 * from a scratch schema migrated for the purpose (the deployment's own may be older or newer).
 */
export async function analyticsDocs(config: Config, options: { out?: string }, print: Print): Promise<void> {
  const database = await resolveDatabase(config);
  const scratch = `thodare_docs_${randomBytes(4).toString('hex')}`;
  const client = new Client({ connectionString: database.url });
  try {
    await migrate(database.url, scratch);
    await client.connect();
    const text = await renderAnalyticsDocs(client, analyticsSchemaName(scratch));
    if (options.out) {
      writeFileSync(options.out, text);
      print(`wrote ${options.out}`);
    } else {
      process.stdout.write(text);
    }
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(analyticsSchemaName(scratch))} CASCADE; DROP SCHEMA IF EXISTS ${quoteIdent(scratch)} CASCADE`).catch(() => undefined);
    await client.end().catch(() => undefined);
    await database.embedded?.stop();
  }
}

async function withPool(config: Config, work: (pool: ReturnType<typeof createPool>) => Promise<void>): Promise<void> {
  const database = await resolveDatabase(config);
  const pool = createPool(database.url, config.schema, 2);
  try {
    await migrate(database.url, config.schema);
    await work(pool);
  } finally {
    await pool.end();
    await database.embedded?.stop();
  }
}
