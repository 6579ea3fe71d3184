import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import type { OrgRole } from '../domain/organization/organization.events';
import { decodeCursor, toPage } from '../http/keyset';
import type { Principal } from '../http/principal';

export interface OrganizationView {
  id: string;
  name: string;
  slug: string;
  role: OrgRole;
  active: boolean;
}

export interface OrganizationPage {
  data: OrganizationView[];
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
}

/**
 * `GET /api/organizations`: a user's memberships in the order they joined (keyset pages, like every
 * list: a user may belong to any number of organizations). An API key sees only its own
 * organization: one row, `next` always null.
 */
export class ListOrganizationsQuery extends Query<OrganizationPage> {
  constructor(
    readonly principal: Principal,
    readonly after: string | undefined,
    readonly limit: number,
  ) {
    super();
  }
}

interface Row extends OrganizationView {
  joinedAt: Date;
}

@QueryHandler(ListOrganizationsQuery)
export class ListOrganizationsHandler implements IQueryHandler<ListOrganizationsQuery, OrganizationPage> {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  async execute({ principal, after, limit }: ListOrganizationsQuery): Promise<OrganizationPage> {
    const [joinedAt, id] = after === undefined ? [null, ''] : decodeCursor(after, ['time', 'string']);
    if (!principal.userId) {
      // A key's list is its one organization, and no cursor follows it: any `after` is past the end.
      if (after !== undefined) return { data: [], next: null };
      const { rows } = await this.pool.query<OrganizationView>('SELECT id, name, slug, $2::text AS role, true AS active FROM organizations WHERE id = $1', [
        principal.organizationId,
        principal.role,
      ]);
      return { data: rows, next: null };
    }
    const { rows } = await this.pool.query<Row>(
      `SELECT o.id, o.name, o.slug, m.role, (o.id = $2) AS active, m.joined_at AS "joinedAt"
       FROM memberships m JOIN organizations o ON o.id = m.organization_id
       WHERE m.user_id = $1 AND ($3::timestamptz IS NULL OR (m.joined_at, o.id) > ($3::timestamptz, $4::text))
       ORDER BY m.joined_at, o.id LIMIT $5`,
      [principal.userId, principal.organizationId, joinedAt, id, limit + 1],
    );
    const { items, next } = toPage(rows, limit, ({ joinedAt: _joinedAt, ...organization }) => organization, (r) => [r.joinedAt.toISOString(), r.id]);
    return { data: items, next };
  }
}
