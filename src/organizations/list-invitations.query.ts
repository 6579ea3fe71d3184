import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import type { OrgRole } from '../domain/organization/organization.events';

export interface InvitationView {
  id: string;
  email: string;
  role: OrgRole;
  createdAt: Date;
  expiresAt: Date;
  acceptedAt: Date | null;
  acceptedBy: string | null;
}

/** `GET /api/invitations`: the organization's invitations, newest first (never their tokens). */
export class ListInvitationsQuery extends Query<InvitationView[]> {
  constructor(readonly organizationId: string) {
    super();
  }
}

@QueryHandler(ListInvitationsQuery)
export class ListInvitationsHandler implements IQueryHandler<ListInvitationsQuery, InvitationView[]> {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  async execute({ organizationId }: ListInvitationsQuery): Promise<InvitationView[]> {
    const { rows } = await this.pool.query<InvitationView>(
      `SELECT id, email, role, created_at AS "createdAt", expires_at AS "expiresAt", accepted_at AS "acceptedAt", accepted_by AS "acceptedBy"
       FROM invitations WHERE organization_id = $1 ORDER BY created_at DESC, id LIMIT 1000`,
      [organizationId],
    );
    return rows;
  }
}
