import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import type { OrgRole } from '../domain/organization/organization.events';
import { decodeCursor, toPage } from '../http/keyset';

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

export interface ApiKeyPage {
  data: ApiKeySummary[];
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
}

/** `GET /api/api-keys`: the organization's keys, newest first (keyset pages), without any secret. */
export class ListApiKeysQuery extends Query<ApiKeyPage> {
  constructor(
    readonly organizationId: string,
    readonly after: string | undefined,
    readonly limit: number,
  ) {
    super();
  }
}

@QueryHandler(ListApiKeysQuery)
export class ListApiKeysHandler implements IQueryHandler<ListApiKeysQuery, ApiKeyPage> {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  async execute({ organizationId, after, limit }: ListApiKeysQuery): Promise<ApiKeyPage> {
    const [createdAt, id] = after === undefined ? [null, ''] : decodeCursor(after, ['time', 'string']);
    const { rows } = await this.pool.query<ApiKeySummary>(
      `SELECT k.id, k.name, k.prefix, k.role, k.created_by AS "createdBy", k.created_at AS "createdAt",
              k.expires_at AS "expiresAt", k.revoked_at AS "revokedAt", c.last_used_at AS "lastUsedAt"
       FROM api_keys k LEFT JOIN api_key_credentials c ON c.api_key_id = k.id AND c.organization_id = k.organization_id
       WHERE k.organization_id = $1
         AND ($2::timestamptz IS NULL OR (k.created_at < $2 OR (k.created_at = $2 AND k.id > $3)))
       ORDER BY k.created_at DESC, k.id
       LIMIT $4`,
      [organizationId, createdAt, id, limit + 1],
    );
    const { items, next } = toPage(rows, limit, (row) => row, (row) => [row.createdAt.toISOString(), row.id]);
    return { data: items, next };
  }
}
