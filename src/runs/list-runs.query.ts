import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { listRunRows } from '../run-queue/run-state.queries';
import { Pool } from 'pg';

/** A run in a listing. */
export interface RunSummary {
  id: string;
  workflowId: string;
  workflowVersion: number;
  status: string;
  error: unknown;
  waitingFor: unknown;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
}

export interface RunPage {
  data: RunSummary[];
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
}

/** `GET /api/runs`: newest first, filtered by workflow and status, keyset-paginated. */
export class ListRunsQuery extends Query<RunPage> {
  constructor(
    readonly organizationId: string,
    readonly filter: { workflowId?: string; status?: string; after?: string; limit: number },
  ) {
    super();
  }
}

@QueryHandler(ListRunsQuery)
export class ListRunsHandler implements IQueryHandler<ListRunsQuery, RunPage> {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  async execute({ organizationId, filter }: ListRunsQuery): Promise<RunPage> {
    const rows = await listRunRows(this.pool, organizationId, { ...filter, limit: filter.limit + 1 });
    const page = rows.slice(0, filter.limit);
    return {
      data: page.map((row) => ({
        id: row.run_id,
        workflowId: row.workflow_id,
        workflowVersion: row.workflow_version,
        status: row.status,
        error: row.error ?? null,
        waitingFor: row.waiting_for ?? null,
        createdAt: row.created_at.toISOString(),
        startedAt: row.started_at?.toISOString() ?? null,
        endedAt: row.ended_at?.toISOString() ?? null,
      })),
      next: rows.length > filter.limit ? (page.at(-1)?.seq ?? null) : null,
    };
  }
}
