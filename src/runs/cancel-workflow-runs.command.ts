import { Inject } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { RunFinished } from '../domain/run/run.errors';
import { NotFound } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { runsOfWorkflow } from '../run-queue/run-state.queries';
import { workflowKnownIn } from '../workflows/workflow-read-model';
import { CancelRunCommand } from './cancel-run.command';

/** What a bulk cancel did: the runs asked to stop, and the cursor of the next page (null on the last). */
export interface WorkflowRunsCancelled {
  cancelled: string[];
  next: string | null;
}

/**
 * `POST /api/workflows/:id/runs/cancel`: asks every run of the workflow that has not ended
 * (started before `startedBefore`, when given) to stop, oldest first, at most `limit` per call —
 * each exactly as `POST /api/runs/:id/cancel` would, so each run records its own
 * `RunCancelRequested` with the caller and the reason. `next` continues after the last run asked
 * (`after`): a run asked but not stopped yet (no worker took it) is not met again. Works for a
 * deleted workflow's runs too; 404 for a workflow the organization never had.
 */
export class CancelWorkflowRunsCommand extends Command<WorkflowRunsCancelled> {
  constructor(
    readonly organizationId: string,
    readonly workflowId: string,
    readonly request: { reason?: string; startedBefore?: string; after?: string; limit: number },
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(CancelWorkflowRunsCommand)
export class CancelWorkflowRunsHandler implements ICommandHandler<CancelWorkflowRunsCommand, WorkflowRunsCancelled> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(CommandBus) private readonly commands: CommandBus,
  ) {}

  async execute({ organizationId, workflowId, request, metadata }: CancelWorkflowRunsCommand): Promise<WorkflowRunsCancelled> {
    if (!(await workflowKnownIn(this.pool, organizationId, workflowId))) throw new NotFound('workflow');
    const { reason, limit, ...filter } = request;
    const { runIds, next } = await runsOfWorkflow(this.pool, organizationId, workflowId, { ...filter, statuses: 'not_ended', limit });
    const cancelled: string[] = [];
    for (const runId of runIds) {
      try {
        await this.commands.execute(new CancelRunCommand(organizationId, runId, metadata, reason));
        cancelled.push(runId);
      } catch (error) {
        if (!(error instanceof RunFinished)) throw error; // it ended meanwhile: nothing to stop
      }
    }
    return { cancelled, next };
  }
}
