import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import type { OrgRole } from '../domain/organization/organization.events';
import { decodeCursor, toPage } from '../http/keyset';

export interface MemberView {
  userId: string;
  email: string;
  name: string | null;
  role: OrgRole;
  joinedAt: Date;
}

export interface MemberPage {
  data: MemberView[];
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
}

/** `GET /api/members`: the caller's organization, owners first (keyset pages). */
export class ListMembersQuery extends Query<MemberPage> {
  constructor(
    readonly organizationId: string,
    readonly after: string | undefined,
    readonly limit: number,
  ) {
    super();
  }
}

interface Row extends MemberView {
  rank: number;
}

@QueryHandler(ListMembersQuery)
export class ListMembersHandler implements IQueryHandler<ListMembersQuery, MemberPage> {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  async execute({ organizationId, after, limit }: ListMembersQuery): Promise<MemberPage> {
    const [rank, joinedAt, userId] = after === undefined ? [null, null, ''] : decodeCursor(after, ['number', 'time', 'string']);
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM (
         SELECT m.user_id AS "userId", u.email, u.name, m.role, m.joined_at AS "joinedAt",
                array_position(ARRAY['owner', 'admin', 'member', 'viewer'], m.role) AS rank
         FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.organization_id = $1) AS member
       WHERE $2::int IS NULL OR (rank, "joinedAt", "userId") > ($2::int, $3::timestamptz, $4::text)
       ORDER BY rank, "joinedAt", "userId" LIMIT $5`,
      [organizationId, rank, joinedAt, userId, limit + 1],
    );
    const { items, next } = toPage(rows, limit, ({ rank: _rank, ...member }) => member, (r) => [r.rank, r.joinedAt.toISOString(), r.userId]);
    return { data: items, next };
  }
}
