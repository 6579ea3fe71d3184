import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { AppError } from '../errors';

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
    const cursor = after === undefined ? undefined : decodeCursor(after);
    const { rows } = await this.pool.query<Row>(
      `SELECT id, name, version, created_at, updated_at FROM workflows
       WHERE organization_id = $1 AND deleted_at IS NULL
         AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::text))
       ORDER BY created_at, id LIMIT $4`,
      [organizationId, cursor?.createdAt ?? null, cursor?.id ?? '', limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      data: page.map((row) => ({ id: row.id, name: row.name, version: row.version, createdAt: row.created_at, updatedAt: row.updated_at })),
      next: rows.length > limit && last ? encodeCursor(last.created_at, last.id) : null,
    };
  }
}

/** Cursors are opaque to clients: base64url of `[createdAt ISO, id]`. */
function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt === 'string' && typeof id === 'string' && !Number.isNaN(Date.parse(createdAt))) return { createdAt, id };
  } catch {
    // fall through: answered below as a bad query
  }
  throw new AppError('invalid_query', 'invalid query string: after: not a cursor this endpoint returned', { issues: [{ path: 'after', code: 'invalid_cursor', message: 'not a cursor this endpoint returned' }] });
}
