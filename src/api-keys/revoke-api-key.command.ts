import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { revokeApiKey } from '../domain/organization/api-key.rules';
import type { OrgActor } from '../domain/organization/membership.rules';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { decideOnOrganization } from '../organizations/organization-stream';

/**
 * `DELETE /api/api-keys/:id`: `ApiKeyRevoked`, projected inline, so the strategy (which reads
 * the table on every request) refuses the key from the next request on.
 */
export class RevokeApiKeyCommand extends Command<void> {
  constructor(
    readonly organizationId: string,
    readonly actor: OrgActor,
    readonly apiKeyId: string,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(RevokeApiKeyCommand)
export class RevokeApiKeyHandler implements ICommandHandler<RevokeApiKeyCommand, void> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  async execute({ organizationId, actor, apiKeyId, metadata }: RevokeApiKeyCommand): Promise<void> {
    await decideOnOrganization(this.pool, this.store, organizationId, metadata, (state) => ({
      events: revokeApiKey(state, actor, apiKeyId),
      result: undefined,
    }));
  }
}
