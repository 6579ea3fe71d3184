import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import type { SerializedWorkflow } from '../domain/workflow/workflow';
import { NotFound } from '../errors';

export interface PastVersion {
  version: number;
  workflow: SerializedWorkflow;
}

/**
 * A live workflow as it was at one version: `workflow_versions` (filled by the `workflows`
 * projection) points at the WorkflowCreated/WorkflowPatched event that holds its JSON.
 */
export class WorkflowVersionQuery extends Query<PastVersion> {
  constructor(
    readonly organizationId: string,
    readonly workflowId: string,
    readonly version: number,
  ) {
    super();
  }
}

@QueryHandler(WorkflowVersionQuery)
export class WorkflowVersionHandler implements IQueryHandler<WorkflowVersionQuery, PastVersion> {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  async execute({ organizationId, workflowId, version }: WorkflowVersionQuery): Promise<PastVersion> {
    const { rows } = await this.pool.query<PastVersion>(
      `SELECT v.version, e.data->'workflow' AS workflow FROM workflow_versions v
       JOIN workflows w ON w.id = v.workflow_id AND w.organization_id = $2 AND w.deleted_at IS NULL
       JOIN events e ON e.global_position = v.global_position
       WHERE v.workflow_id = $1 AND v.version = $3`,
      [workflowId, organizationId, version],
    );
    const row = rows[0];
    if (!row) throw new NotFound(`version ${version} of the workflow`);
    return row;
  }
}
