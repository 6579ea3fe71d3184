import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import type { OrgRole } from '../domain/organization/organization.events';
import { decodeCursor, toPage } from '../http/keyset';

export interface InvitationView {
  id: string;
  email: string;
  role: OrgRole;
  createdAt: Date;
  expiresAt: Date;
  acceptedAt: Date | null;
  acceptedBy: string | null;
}

export interface InvitationPage {
  data: InvitationView[];
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
}

/** `GET /api/invitations`: the organization's invitations, newest first (keyset pages; never their tokens). */
export class ListInvitationsQuery extends Query<InvitationPage> {
  constructor(
    readonly organizationId: string,
    readonly after: string | undefined,
    readonly limit: number,
  ) {
    super();
  }
}

@QueryHandler(ListInvitationsQuery)
export class ListInvitationsHandler implements IQueryHandler<ListInvitationsQuery, InvitationPage> {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  async execute({ organizationId, after, limit }: ListInvitationsQuery): Promise<InvitationPage> {
    const [createdAt, id] = after === undefined ? [null, ''] : decodeCursor(after, ['time', 'string']);
    const { rows } = await this.pool.query<InvitationView>(
      `SELECT id, email, role, created_at AS "createdAt", expires_at AS "expiresAt", accepted_at AS "acceptedAt", accepted_by AS "acceptedBy"
       FROM invitations WHERE organization_id = $1
         AND ($2::timestamptz IS NULL OR (created_at < $2 OR (created_at = $2 AND id > $3)))
       ORDER BY created_at DESC, id LIMIT $4`,
      [organizationId, createdAt, id, limit + 1],
    );
    const { items, next } = toPage(rows, limit, (row) => row, (row) => [row.createdAt.toISOString(), row.id]);
    return { data: items, next };
  }
}
