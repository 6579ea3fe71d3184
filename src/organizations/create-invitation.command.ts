import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { hashSecret, INVITATION_TOKEN_PREFIX, newSecret } from '../auth/credentials';
import { inviteMember } from '../domain/organization/invitation.rules';
import type { OrgActor } from '../domain/organization/membership.rules';
import type { OrgRole } from '../domain/organization/organization.events';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { decideOnOrganization } from './organization-stream';

export const INVITATION_TTL_HOURS = 7 * 24;
export const MAX_INVITATION_TTL_HOURS = 30 * 24;

export interface CreatedInvitation {
  id: string;
  /** Single-use; in this response only (its SHA-256 is stored, never the token). */
  token: string;
  email: string;
  role: OrgRole;
  expiresAt: Date;
}

/** `POST /api/invitations`: `InvitationCreated` (no token in it) + the token's hash, one transaction. */
export class CreateInvitationCommand extends Command<CreatedInvitation> {
  constructor(
    readonly organizationId: string,
    readonly actor: OrgActor,
    /** Normalised already. */
    readonly email: string,
    readonly role: OrgRole,
    readonly expiresAt: Date | undefined,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(CreateInvitationCommand)
export class CreateInvitationHandler implements ICommandHandler<CreateInvitationCommand, CreatedInvitation> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  async execute({ organizationId, actor, email, role, metadata, ...input }: CreateInvitationCommand): Promise<CreatedInvitation> {
    const { rowCount } = await this.pool.query(
      'SELECT 1 FROM users u JOIN memberships m ON m.user_id = u.id AND m.organization_id = $1 WHERE u.email = $2',
      [organizationId, email],
    );
    const id = randomUUID();
    const token = newSecret(INVITATION_TOKEN_PREFIX);
    const now = new Date();
    const expiresAt = input.expiresAt ?? new Date(now.getTime() + INVITATION_TTL_HOURS * 3600_000);
    return decideOnOrganization(this.pool, this.store, organizationId, metadata, (state) => ({
      events: inviteMember(state, actor, { invitationId: id, email, role, expiresAt }, Boolean(rowCount), { now, maxTtlHours: MAX_INVITATION_TTL_HOURS }),
      alsoWrite: async (client) => {
        await client.query('INSERT INTO invitation_tokens (invitation_id, organization_id, token_hash) VALUES ($1, $2, $3)', [id, organizationId, hashSecret(token)]);
      },
      result: { id, token, email, role, expiresAt },
    }));
  }
}
