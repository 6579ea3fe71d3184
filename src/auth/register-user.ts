import type { Pool } from 'pg';
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

/**
 * A user and an organization they own, in one transaction: sign-up (their personal
 * organization) and `thodare admin create` (the first organization of a server) share it.
 * `email` must already be normalised.
 */
export async function registerUser(
  pool: Pool,
  store: EventStore,
  input: { email: string; password: string; name: string | null; organizationName: string; metadata: Omit<EventMetadata, 'actor'> },
): Promise<Registration> {
  assertStrongPassword(input.password);
  const passwordHash = await hashPassword(input.password);
  return inTransaction(pool, async (client) => {
    const user = await insertUser(client, { email: input.email, name: input.name, passwordHash });
    const metadata: EventMetadata = { ...input.metadata, actor: { type: 'user', id: user.id } };
    const organization = await createOrganization(client, store, { name: input.organizationName, ownerUserId: user.id, metadata });
    return { user, organization };
  });
}

/** "alice@example.com" (name "Alice") → "Alice's organization". */
export function personalOrganizationName(email: string, name: string | null): string {
  return `${name?.trim() || email.split('@')[0] || 'My'}'s organization`;
}
