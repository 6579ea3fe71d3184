import { Inject } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, QueryBus, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { opsToRevert } from '../domain/workflow/revert-ops';
import { AppError, NotFound } from '../errors';
import type { EventMetadata } from '../event-store/event';
import type { PatchResponse } from './patch-response';
import type { Principal as Author } from '../domain/workflow/apply-result';
import { PatchWorkflowCommand } from './patch-workflow.command';
import { getCurrentWorkflow } from './workflow-read-model';
import { WorkflowVersionQuery } from './workflow-version.query';

/** A revert's answer: the patch result, and the version the workflow went back to. */
export interface RevertResponse extends PatchResponse {
  revertedTo: number;
}

/** A concurrent patch moved the workflow between the read and the write: read and diff again, this often. */
const ATTEMPTS = 3;

/**
 * Takes a workflow back to one of its past versions (`POST /api/workflows/:id/revert`): the ops
 * from the current version to that one (`opsToRevert`) go through the patch pipeline as one batch,
 * so the revert is a new version recorded op by op, with its skips (a user-only param an API key
 * may not set) and its validation like any patch. `ifMatch`: the version the caller saw (412
 * `version_mismatch` otherwise); without it a patch that lands between the read and the write
 * makes the revert read and diff again. The ops are one patch however many they are (not an
 * agent's batch: the two versions' size bounds bound them), so a revert is one version, whole
 * or not at all. Reverting to the current content changes nothing.
 */
export class RevertWorkflowCommand extends Command<RevertResponse> {
  constructor(
    readonly organizationId: string,
    readonly workflowId: string,
    readonly version: number,
    readonly author: Author,
    readonly options: { ifMatch?: number; dryRun?: boolean },
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(RevertWorkflowCommand)
export class RevertWorkflowHandler implements ICommandHandler<RevertWorkflowCommand, RevertResponse> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  async execute({ organizationId, workflowId, version, author, options, metadata }: RevertWorkflowCommand): Promise<RevertResponse> {
    const target = await this.queries.execute(new WorkflowVersionQuery(organizationId, workflowId, version));
    for (let attempt = 1; ; attempt += 1) {
      const current = await getCurrentWorkflow(this.pool, organizationId, workflowId);
      if (!current) throw new NotFound('workflow');
      const ops = opsToRevert(current.workflow, target.workflow);
      const patch = { ifMatch: options.ifMatch ?? current.version, maxOps: Infinity, ...(options.dryRun ? { dryRun: true } : {}) };
      try {
        const result = await this.commands.execute(new PatchWorkflowCommand(organizationId, workflowId, ops, author, patch, metadata));
        return { ...result, revertedTo: version };
      } catch (error) {
        const moved = error instanceof AppError && error.code === 'version_mismatch' && options.ifMatch === undefined;
        if (!moved || attempt >= ATTEMPTS) throw error;
      }
    }
  }
}
