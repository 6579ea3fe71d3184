import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { NotFound } from '../errors';
import { handleCommand } from '../event-store/command-runtime';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { workflowStream, type WorkflowEvent } from './workflow.events';
import { CurrentWorkflows } from './current-workflows';
import { getCurrentWorkflow } from './workflow-read-model';

const MAX_ATTEMPTS = 5;

/**
 * Soft-deletes a workflow: later reads answer 404; runs already started keep their pinned copy
 * (they never read the workflow again).
 */
export class DeleteWorkflowCommand extends Command<void> {
  constructor(
    readonly organizationId: string,
    readonly workflowId: string,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(DeleteWorkflowCommand)
export class DeleteWorkflowHandler implements ICommandHandler<DeleteWorkflowCommand, void> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(CurrentWorkflows) private readonly workflows: CurrentWorkflows,
  ) {}

  async execute({ organizationId, workflowId, metadata }: DeleteWorkflowCommand): Promise<void> {
    await handleCommand(
      {
        load: async () => {
          const current = await getCurrentWorkflow(this.pool, organizationId, workflowId);
          if (!current) throw new NotFound('workflow');
          return { state: current, version: current.streamVersion };
        },
        decide: (current): WorkflowEvent[] => [{ type: 'WorkflowDeleted', data: { version: current.version } }],
        append: async (loaded, events) => {
          await this.store.append(workflowStream(workflowId), loaded.version, events, { organizationId, metadata });
          this.workflows.forget(organizationId, workflowId);
        },
      },
      { attempts: MAX_ATTEMPTS },
    );
  }
}
