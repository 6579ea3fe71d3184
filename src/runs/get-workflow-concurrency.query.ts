import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { NotFound } from '../errors';
import { linesOf, type LineView } from '../run-queue/run-concurrency';
import { workflowKnownIn } from '../workflows/workflow-read-model';

/** `GET /api/workflows/:id/concurrency`: the workflow's lines that hold or queue runs now (its limit is its `metadata.concurrency`). */
export interface WorkflowConcurrencyView {
  data: LineView[];
  next: string | null;
}

export class GetWorkflowConcurrencyQuery extends Query<WorkflowConcurrencyView> {
  constructor(
    readonly organizationId: string,
    readonly workflowId: string,
    readonly page: { after?: string; limit: number },
  ) {
    super();
  }
}

@QueryHandler(GetWorkflowConcurrencyQuery)
export class GetWorkflowConcurrencyHandler implements IQueryHandler<GetWorkflowConcurrencyQuery> {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  async execute({ organizationId, workflowId, page }: GetWorkflowConcurrencyQuery): Promise<WorkflowConcurrencyView> {
    // Also a deleted workflow's: its queued runs still take turns.
    if (!(await workflowKnownIn(this.pool, organizationId, workflowId))) throw new NotFound('workflow');
    return linesOf(this.pool, organizationId, workflowId, page);
  }
}
