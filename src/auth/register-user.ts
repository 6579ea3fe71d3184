import type { Pool, PoolClient } from 'pg';
import type { EventMetadata } from '../event-store/event';
import type { EventStore } from '../event-store/event-store';
import { createOrganization, type CreatedOrganization } from '../organizations/create-organization';
import { assertStrongPassword, hashPassword } from './password';
import { inTransaction } from '../database/pool';
import { insertUser, type User } from './users';

export interface Registration {
  user: User;
  organization: CreatedOrganization;
}

export interface RegistrationInput {
  /** Normalised already. */
  email: string;
  name: string | null;
  organizationName: string;
  metadata: Omit<EventMetadata, 'actor'>;
}

/**
 * A user and an organization they own, in one transaction: sign-up (their personal
 * organization) and `thodare admin create` (the first organization of a server) share it.
 */
export async function registerUser(pool: Pool, store: EventStore, input: RegistrationInput & { password: string }): Promise<Registration> {
  const passwordHash = await strongPasswordHash(input.password);
  return inTransaction(pool, (client) => registerUserIn(client, store, { ...input, passwordHash }));
}

/** 400 `weak_password`, else the scrypt hash — computed before any transaction opens (it takes ~0.1 s). */
export async function strongPasswordHash(password: string): Promise<string> {
  assertStrongPassword(password);
  return hashPassword(password);
}

/** The same inside the caller's transaction, which may add more (sign-up opens the session in it). */
export async function registerUserIn(client: PoolClient, store: EventStore, input: RegistrationInput & { passwordHash: string }): Promise<Registration> {
  const user = await insertUser(client, { email: input.email, name: input.name, passwordHash: input.passwordHash });
  const metadata: EventMetadata = { ...input.metadata, actor: { type: 'user', id: user.id } };
  const organization = await createOrganization(client, store, { name: input.organizationName, ownerUserId: user.id, metadata });
  return { user, organization };
}

/** "alice@example.com" (name "Alice") → "Alice's organization". */
export function personalOrganizationName(email: string, name: string | null): string {
  return `${name?.trim() || email.split('@')[0] || 'My'}'s organization`;
}
