import { randomBytes, randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { AppError } from '../errors';
import type { EventMetadata } from '../event-store/event';
import type { EventStore } from '../event-store/event-store';
import { organizationStream, type OrganizationEvent } from '../domain/organization/organization.events';

export interface CreatedOrganization {
  id: string;
  name: string;
  slug: string;
}

/** `Acme Corp!` → `acme-corp`, `Alice's organization` → `alices-organization`; never empty. */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return slug || 'org';
}

const isSlugClash = (error: unknown) => (error as { constraint?: string }).constraint === 'organizations_slug_key';

/**
 * Appends `OrganizationCreated` + `MemberAdded(owner)` on a new `org-<id>` stream, inside the
 * caller's transaction. A requested slug that is taken is a 409 `slug_taken`; a derived one
 * gets a random suffix until it is free (a savepoint keeps the transaction usable).
 */
export async function createOrganization(
  client: PoolClient,
  store: EventStore,
  input: { name: string; slug?: string; ownerUserId: string; metadata: EventMetadata },
): Promise<CreatedOrganization> {
  const id = randomUUID();
  const base = input.slug ?? slugify(input.name);
  for (let attempt = 0; ; attempt++) {
    const slug = attempt === 0 ? base : `${base}-${randomBytes(3).toString('hex')}`;
    const events: OrganizationEvent[] = [
      { type: 'OrganizationCreated', data: { organizationId: id, name: input.name, slug, createdBy: input.ownerUserId } },
      { type: 'MemberAdded', data: { userId: input.ownerUserId, role: 'owner' } },
    ];
    await client.query('SAVEPOINT create_organization');
    try {
      await store.append(organizationStream(id), 0, events, { organizationId: id, metadata: input.metadata, client });
      await client.query('RELEASE SAVEPOINT create_organization');
      return { id, name: input.name, slug };
    } catch (error) {
      await client.query('ROLLBACK TO SAVEPOINT create_organization');
      if (!isSlugClash(error)) throw error;
      if (input.slug) throw new AppError('slug_taken', `the slug "${input.slug}" is taken`);
      if (attempt >= 5) throw error;
    }
  }
}
