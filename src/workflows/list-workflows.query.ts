import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { decodeCursor, toPage } from '../http/keyset';

export interface WorkflowSummary {
  id: string;
  name: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface WorkflowPage {
  data: WorkflowSummary[];
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
}

/** One page of the organization's live workflows in creation order (keyset, never OFFSET). */
export class ListWorkflowsQuery extends Query<WorkflowPage> {
  constructor(
    readonly organizationId: string,
    readonly after: string | undefined,
    readonly limit: number,
  ) {
    super();
  }
}

interface Row {
  id: string;
  name: string;
  version: number;
  created_at: Date;
  updated_at: Date;
}

@QueryHandler(ListWorkflowsQuery)
export class ListWorkflowsHandler implements IQueryHandler<ListWorkflowsQuery, WorkflowPage> {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  async execute({ organizationId, after, limit }: ListWorkflowsQuery): Promise<WorkflowPage> {
    const [createdAt, id] = after === undefined ? [null, ''] : decodeCursor(after, ['time', 'string']);
    const { rows } = await this.pool.query<Row>(
      `SELECT id, name, version, created_at, updated_at FROM workflows
       WHERE organization_id = $1 AND deleted_at IS NULL
         AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::text))
       ORDER BY created_at, id LIMIT $4`,
      [organizationId, createdAt, id, limit + 1],
    );
    const { items, next } = toPage(
      rows,
      limit,
      (row) => ({ id: row.id, name: row.name, version: row.version, createdAt: row.created_at, updatedAt: row.updated_at }),
      (row) => [row.created_at.toISOString(), row.id],
    );
    return { data: items, next };
  }
}
