import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';

export interface SecretSummary {
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

/** The organization's secret names with their dates; values are never read here. */
export class ListSecretsQuery extends Query<SecretSummary[]> {
  constructor(readonly organizationId: string) {
    super();
  }
}

@QueryHandler(ListSecretsQuery)
export class ListSecretsHandler implements IQueryHandler<ListSecretsQuery, SecretSummary[]> {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  async execute({ organizationId }: ListSecretsQuery): Promise<SecretSummary[]> {
    const { rows } = await this.pool.query<{ name: string; created_at: Date; updated_at: Date }>(
      'SELECT name, created_at, updated_at FROM secrets WHERE organization_id = $1 ORDER BY name',
      [organizationId],
    );
    return rows.map((row) => ({ name: row.name, createdAt: row.created_at, updatedAt: row.updated_at }));
  }
}
