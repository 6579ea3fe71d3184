import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { issueApiKey, type CreatedApiKey } from '../api-keys/create-api-key.command';
import { emailSchema } from '../auth/email';
import { registerUser, type Registration } from '../auth/register-user';
import type { Config } from '../config/config';
import { eventsChannel } from '../database/database.module';
import { migrate } from '../database/migrate';
import { createPool } from '../database/pool';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { ALL_PROJECTIONS } from '../app/projections';
import { displayUrl, resolveDatabase } from './database';

export interface AdminCreateOptions {
  email: string;
  org: string;
  password?: string;
  name?: string;
}

export interface AdminCreated extends Registration {
  /** Set when no password was given: the generated one, printed once. */
  generatedPassword: string | undefined;
  apiKey: CreatedApiKey;
}

const CLI_METADATA: Omit<EventMetadata, 'actor'> = { agent: 'thodare admin create' };

/**
 * A user, an organization they own and an admin API key: how the first account is made on a
 * server where sign-up is closed. Works on any pool (the CLI's, or a test's).
 */
export async function createAdmin(pool: Pool, store: EventStore, options: AdminCreateOptions): Promise<AdminCreated> {
  const parsed = emailSchema.safeParse(options.email);
  if (!parsed.success) throw new Error(`--email: "${options.email}" is not an email address`);
  const generatedPassword = options.password === undefined ? randomBytes(18).toString('base64url') : undefined;
  const password = options.password ?? generatedPassword ?? '';
  const registration = await registerUser(pool, store, { email: parsed.data, password, name: options.name ?? null, organizationName: options.org, metadata: CLI_METADATA });
  const actor = { type: 'user' as const, id: registration.user.id };
  const apiKey = await issueApiKey(
    pool,
    store,
    registration.organization.id,
    { role: 'owner', userId: registration.user.id },
    { name: 'admin (thodare admin create)', role: 'admin', expiresAt: null },
    { ...CLI_METADATA, actor },
  );
  return { ...registration, generatedPassword, apiKey };
}

/** `thodare admin create --email … --org … [--password …] [--name …]`. */
export async function adminCreate(config: Config, options: AdminCreateOptions, print: (line: string) => void): Promise<void> {
  const database = await resolveDatabase(config);
  const pool = createPool(database.url, config.schema, 2);
  try {
    await migrate(database.url, config.schema);
    const created = await createAdmin(pool, new EventStore(pool, eventsChannel(config.schema), ALL_PROJECTIONS), options);
    print(`database:     ${displayUrl(database)}`);
    print(`user:         ${created.user.email} (${created.user.id})`);
    print(`organization: ${created.organization.name} (${created.organization.id}, slug ${created.organization.slug}); the user is its owner`);
    if (created.generatedPassword) print(`password:     ${created.generatedPassword}   (generated; shown once)`);
    print(`admin API key (shown once, keep it safe):`);
    print(created.apiKey.key);
  } finally {
    await pool.end();
    await database.embedded?.stop();
  }
}
