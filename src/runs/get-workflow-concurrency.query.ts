import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { NotFound } from '../errors';
import { linesOf, type LineView } from '../run-queue/run-concurrency';
import { getCurrentWorkflow, workflowKnownIn } from '../workflows/workflow-read-model';

/** `GET /api/workflows/:id/concurrency`: the workflow's limit now, and its lines that hold or queue runs. */
export interface WorkflowConcurrencyView {
  /** The current version's `metadata.concurrency` (null without one, or once the workflow is deleted: its runs keep the limit they started with). */
  limit: number | null;
  keyPath: string | null;
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
    const current = await getCurrentWorkflow(this.pool, organizationId, workflowId);
    const concurrency = current?.workflow.metadata.concurrency;
    const lines = await linesOf(this.pool, organizationId, workflowId, page);
    return { limit: concurrency?.limit ?? null, keyPath: concurrency?.keyPath ?? null, ...lines };
  }
}
