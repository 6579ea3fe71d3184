import { Inject } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { RunRuleError } from '../domain/run/run.errors';
import type { RunStatus } from '../domain/run/run.state';
import { AppError, NotFound } from '../errors';
import { ERROR_STATUS } from '../http/error-status';
import type { EventMetadata } from '../event-store/event';
import { runsOfWorkflow } from '../run-queue/run-state.queries';
import { workflowKnownIn } from '../workflows/workflow-read-model';
import { RerunRunCommand, type RerunVersion } from './rerun-run.command';

/** What a bulk rerun did: the new runs, the runs it could not rerun and why, and the cursor of the next page (null on the last). */
export interface WorkflowRunsRerun {
  rerun: { runId: string; rerunOf: string; status: RunStatus }[];
  refused: { runId: string; error: string; message: string }[];
  next: string | null;
}

export interface BulkRerunRequest {
  status: 'failed' | 'cancelled' | 'completed';
  from: 'failure' | 'start';
  workflowVersion: RerunVersion;
  startedAfter?: string;
  startedBefore?: string;
  /** Makes a retried call safe: each run's rerun is keyed `<idempotencyKey>:<runId>`. */
  idempotencyKey?: string;
  after?: string;
  limit: number;
}

/**
 * `POST /api/workflows/:id/runs/rerun`: reruns every run of the workflow that ended with
 * `status` (started in the window given), oldest first, at most `limit` per call — each exactly
 * as `POST /api/runs/:id/rerun` would (by default from its failure, on the workflow's current
 * version: the replay after a repair). A run that cannot be rerun is reported in `refused` with
 * the error its own rerun would get, and the others go on. With an idempotency key a retried call
 * answers the same runs instead of starting more. 404 for a workflow the organization never had.
 */
export class RerunWorkflowRunsCommand extends Command<WorkflowRunsRerun> {
  constructor(
    readonly organizationId: string,
    readonly workflowId: string,
    readonly request: BulkRerunRequest,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(RerunWorkflowRunsCommand)
export class RerunWorkflowRunsHandler implements ICommandHandler<RerunWorkflowRunsCommand, WorkflowRunsRerun> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(CommandBus) private readonly commands: CommandBus,
  ) {}

  async execute({ organizationId, workflowId, request, metadata }: RerunWorkflowRunsCommand): Promise<WorkflowRunsRerun> {
    if (!(await workflowKnownIn(this.pool, organizationId, workflowId))) throw new NotFound('workflow');
    const { status, from, workflowVersion, idempotencyKey, limit, ...window } = request;
    const { runIds, next } = await runsOfWorkflow(this.pool, organizationId, workflowId, { ...window, statuses: [status], limit });
    const answer: WorkflowRunsRerun = { rerun: [], refused: [], next };
    for (const runId of runIds) {
      const key = idempotencyKey ? { idempotencyKey: `${idempotencyKey}:${runId}` } : {};
      try {
        const started = await this.commands.execute(new RerunRunCommand(organizationId, runId, { point: { from }, workflowVersion, ...key }, metadata));
        answer.rerun.push({ runId: started.runId, rerunOf: runId, status: started.status });
      } catch (error) {
        // Refused for what the run or the workflow is (a 4xx of its own rerun); anything else (the database away) fails the call.
        if (!(error instanceof AppError || error instanceof RunRuleError) || (ERROR_STATUS[error.code] ?? 500) >= 500) throw error;
        answer.refused.push({ runId, error: error.code, message: error.message });
      }
    }
    return answer;
  }
}
