import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { CONNECTOR_CATALOG } from '../connectors/catalog.token';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import { validateWorkflow } from '../domain/workflow/validate-workflow';
import type { ValidationError } from '../domain/workflow/validation-error';
import type { SerializedWorkflow } from '../domain/workflow/workflow';
import { NotFound } from '../errors';
import { getCurrentWorkflow } from './workflow-read-model';

export interface WorkflowView {
  id: string;
  version: number;
  workflow: SerializedWorkflow;
  validation_errors: ValidationError[];
  runnable: boolean;
}

/** A workflow with its current validation errors (against the catalog deployed now). */
export class GetWorkflowQuery extends Query<WorkflowView> {
  constructor(
    readonly organizationId: string,
    readonly workflowId: string,
  ) {
    super();
  }
}

@QueryHandler(GetWorkflowQuery)
export class GetWorkflowHandler implements IQueryHandler<GetWorkflowQuery, WorkflowView> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(CONNECTOR_CATALOG) private readonly catalog: ConnectorCatalog,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async execute({ organizationId, workflowId }: GetWorkflowQuery): Promise<WorkflowView> {
    const current = await getCurrentWorkflow(this.pool, organizationId, workflowId);
    if (!current) throw new NotFound('workflow');
    const errors = validateWorkflow(current.workflow, this.catalog, { templateEnv: this.config.templateEnv });
    return { id: current.id, version: current.version, workflow: current.workflow, validation_errors: errors, runnable: errors.length === 0 };
  }
}
