import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { API_KEY_PREFIX, hashSecret, keyPrefix, newSecret } from '../auth/credentials';
import { createApiKey } from '../domain/organization/api-key.rules';
import type { OrgActor } from '../domain/organization/membership.rules';
import type { OrgRole } from '../domain/organization/organization.events';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { decideOnOrganization } from '../organizations/organization-stream';

export interface CreatedApiKey {
  id: string;
  name: string;
  /** The raw key: in this response only, never stored or logged. */
  key: string;
  prefix: string;
  role: OrgRole;
  createdAt: Date;
  expiresAt: Date | null;
}

/** `POST /api/api-keys`: `ApiKeyCreated` (no secret in it) + the key's SHA-256 in `api_key_credentials`, one transaction. */
export class CreateApiKeyCommand extends Command<CreatedApiKey> {
  constructor(
    readonly organizationId: string,
    readonly actor: OrgActor,
    readonly input: { name: string; role: OrgRole; expiresAt: Date | null },
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(CreateApiKeyCommand)
export class CreateApiKeyHandler implements ICommandHandler<CreateApiKeyCommand, CreatedApiKey> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  execute({ organizationId, actor, input, metadata }: CreateApiKeyCommand): Promise<CreatedApiKey> {
    return issueApiKey(this.pool, this.store, organizationId, actor, input, metadata);
  }
}

/** Shared with `thodare admin create`, which has no Nest container. */
export async function issueApiKey(
  pool: Pool,
  store: EventStore,
  organizationId: string,
  actor: OrgActor,
  input: { name: string; role: OrgRole; expiresAt: Date | null },
  metadata: EventMetadata,
): Promise<CreatedApiKey> {
  const id = randomUUID();
  const key = newSecret(API_KEY_PREFIX);
  const prefix = keyPrefix(key);
  return decideOnOrganization(pool, store, organizationId, metadata, (state) => ({
    events: createApiKey(state, actor, { apiKeyId: id, name: input.name, prefix, role: input.role, expiresAt: input.expiresAt }, new Date()),
    alsoWrite: async (client) => {
      await client.query('INSERT INTO api_key_credentials (api_key_id, organization_id, key_hash) VALUES ($1, $2, $3)', [id, organizationId, hashSecret(key)]);
    },
    result: { id, name: input.name, key, prefix, role: input.role, createdAt: new Date(), expiresAt: input.expiresAt },
  }));
}
