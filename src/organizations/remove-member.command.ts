import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { removeMember, type OrgActor } from '../domain/organization/membership.rules';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { decideOnOrganization } from './organization-stream';

/**
 * `DELETE /api/members/:userId`: leave (yourself) or remove (admin+). The removed user's
 * sessions fall back to another organization of theirs on their next request; API keys belong
 * to the organization and keep working until revoked.
 */
export class RemoveMemberCommand extends Command<void> {
  constructor(
    readonly organizationId: string,
    readonly actor: OrgActor,
    readonly userId: string,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(RemoveMemberCommand)
export class RemoveMemberHandler implements ICommandHandler<RemoveMemberCommand, void> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  async execute({ organizationId, actor, userId, metadata }: RemoveMemberCommand): Promise<void> {
    await decideOnOrganization(this.pool, this.store, organizationId, metadata, (state) => ({
      events: removeMember(state, actor, userId),
      result: undefined,
    }));
  }
}
