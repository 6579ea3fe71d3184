import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import type { OrgRole } from '../domain/organization/organization.events';

export interface MemberView {
  userId: string;
  email: string;
  name: string | null;
  role: OrgRole;
  joinedAt: Date;
}

/** `GET /api/members`: the caller's organization, owners first. */
export class ListMembersQuery extends Query<MemberView[]> {
  constructor(readonly organizationId: string) {
    super();
  }
}

@QueryHandler(ListMembersQuery)
export class ListMembersHandler implements IQueryHandler<ListMembersQuery, MemberView[]> {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  async execute({ organizationId }: ListMembersQuery): Promise<MemberView[]> {
    const { rows } = await this.pool.query<MemberView>(
      `SELECT m.user_id AS "userId", u.email, u.name, m.role, m.joined_at AS "joinedAt"
       FROM memberships m JOIN users u ON u.id = m.user_id
       WHERE m.organization_id = $1
       ORDER BY array_position(ARRAY['owner', 'admin', 'member', 'viewer'], m.role), m.joined_at, m.user_id
       LIMIT 5000`,
      [organizationId],
    );
    return rows;
  }
}
