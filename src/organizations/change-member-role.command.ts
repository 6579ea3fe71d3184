import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { changeMemberRole, type OrgActor } from '../domain/organization/membership.rules';
import type { OrgRole } from '../domain/organization/organization.events';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { decideOnOrganization } from './organization-stream';

/** `PATCH /api/members/:userId`: `MemberRoleChanged` under the admin/owner and last-owner rules. */
export class ChangeMemberRoleCommand extends Command<{ userId: string; role: OrgRole }> {
  constructor(
    readonly organizationId: string,
    readonly actor: OrgActor,
    readonly userId: string,
    readonly role: OrgRole,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(ChangeMemberRoleCommand)
export class ChangeMemberRoleHandler implements ICommandHandler<ChangeMemberRoleCommand, { userId: string; role: OrgRole }> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  execute({ organizationId, actor, userId, role, metadata }: ChangeMemberRoleCommand): Promise<{ userId: string; role: OrgRole }> {
    return decideOnOrganization(this.pool, this.store, organizationId, metadata, (state) => ({
      events: changeMemberRole(state, actor, userId, role),
      result: { userId, role },
    }));
  }
}
