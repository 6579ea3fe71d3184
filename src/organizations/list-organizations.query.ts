import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import type { OrgRole } from '../domain/organization/organization.events';
import type { Principal } from '../http/principal';

export interface OrganizationView {
  id: string;
  name: string;
  slug: string;
  role: OrgRole;
  active: boolean;
}

/** `GET /api/organizations`: a user's memberships; an API key sees only its own organization. */
export class ListOrganizationsQuery extends Query<OrganizationView[]> {
  constructor(readonly principal: Principal) {
    super();
  }
}

@QueryHandler(ListOrganizationsQuery)
export class ListOrganizationsHandler implements IQueryHandler<ListOrganizationsQuery, OrganizationView[]> {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  async execute({ principal }: ListOrganizationsQuery): Promise<OrganizationView[]> {
    if (!principal.userId) {
      const { rows } = await this.pool.query<OrganizationView>('SELECT id, name, slug, $2::text AS role, true AS active FROM organizations WHERE id = $1', [
        principal.organizationId,
        principal.role,
      ]);
      return rows;
    }
    const { rows } = await this.pool.query<OrganizationView>(
      `SELECT o.id, o.name, o.slug, m.role, (o.id = $2) AS active
       FROM memberships m JOIN organizations o ON o.id = m.organization_id
       WHERE m.user_id = $1 ORDER BY m.joined_at, o.id`,
      [principal.userId, principal.organizationId],
    );
    return rows;
  }
}
