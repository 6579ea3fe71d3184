import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { hashSecret } from '../auth/credentials';
import { findUser } from '../auth/users';
import { acceptInvitation } from '../domain/organization/invitation.rules';
import type { OrgRole } from '../domain/organization/organization.events';
import { NotFound } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { decideOnOrganization } from './organization-stream';

/**
 * `POST /api/invitations/:token/accept` by a session whose email is the invited one:
 * `InvitationAccepted` + `MemberAdded` on the inviting organization's stream. Any other
 * email gets 404, as if the token did not exist; a second use gets 409 `invitation_used`.
 */
export class AcceptInvitationCommand extends Command<{ organizationId: string; role: OrgRole }> {
  constructor(
    readonly token: string,
    readonly userId: string,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(AcceptInvitationCommand)
export class AcceptInvitationHandler implements ICommandHandler<AcceptInvitationCommand, { organizationId: string; role: OrgRole }> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  async execute({ token, userId, metadata }: AcceptInvitationCommand): Promise<{ organizationId: string; role: OrgRole }> {
    const { rows } = await this.pool.query<{ invitation_id: string; organization_id: string }>(
      'SELECT invitation_id, organization_id FROM invitation_tokens WHERE token_hash = $1',
      [hashSecret(token)],
    );
    const found = rows[0];
    const user = await findUser(this.pool, userId);
    if (!found || !user) throw new NotFound('invitation');
    const organizationId = found.organization_id;
    return decideOnOrganization(this.pool, this.store, organizationId, metadata, (state) => {
      const events = acceptInvitation(state, found.invitation_id, user, new Date());
      return { events, result: { organizationId, role: state.invitations.get(found.invitation_id)!.role } };
    });
  }
}
