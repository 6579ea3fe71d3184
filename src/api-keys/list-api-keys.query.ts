import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import type { OrgRole } from '../domain/organization/organization.events';

export interface ApiKeySummary {
  id: string;
  name: string;
  prefix: string;
  role: OrgRole;
  createdBy: { type: string; id: string };
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

/** `GET /api/api-keys`: the organization's keys, newest first, without any secret. */
export class ListApiKeysQuery extends Query<ApiKeySummary[]> {
  constructor(readonly organizationId: string) {
    super();
  }
}

@QueryHandler(ListApiKeysQuery)
export class ListApiKeysHandler implements IQueryHandler<ListApiKeysQuery, ApiKeySummary[]> {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  async execute({ organizationId }: ListApiKeysQuery): Promise<ApiKeySummary[]> {
    const { rows } = await this.pool.query<ApiKeySummary>(
      `SELECT k.id, k.name, k.prefix, k.role, k.created_by AS "createdBy", k.created_at AS "createdAt",
              k.expires_at AS "expiresAt", k.revoked_at AS "revokedAt", c.last_used_at AS "lastUsedAt"
       FROM api_keys k LEFT JOIN api_key_credentials c ON c.api_key_id = k.id AND c.organization_id = k.organization_id
       WHERE k.organization_id = $1
       ORDER BY k.created_at DESC, k.id
       LIMIT 1000`,
      [organizationId],
    );
    return rows;
  }
}
