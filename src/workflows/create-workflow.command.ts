import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { emptyWorkflow, type SerializedWorkflow } from '../domain/workflow/workflow';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { workflowStream, type WorkflowEvent } from './workflow.events';

export interface CreatedWorkflow {
  id: string;
  version: 1;
  workflow: SerializedWorkflow;
}

/** Creates an empty workflow (version 1) for agents to patch. */
export class CreateWorkflowCommand extends Command<CreatedWorkflow> {
  constructor(
    readonly organizationId: string,
    readonly name: string | undefined,
    readonly description: string | undefined,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(CreateWorkflowCommand)
export class CreateWorkflowHandler implements ICommandHandler<CreateWorkflowCommand, CreatedWorkflow> {
  constructor(@Inject(EventStore) private readonly store: EventStore) {}

  async execute({ organizationId, name, description, metadata }: CreateWorkflowCommand): Promise<CreatedWorkflow> {
    const id = randomUUID();
    const workflow = emptyWorkflow(name, description);
    const event: WorkflowEvent = { type: 'WorkflowCreated', data: { workflowId: id, version: 1, workflow } };
    await this.store.append(workflowStream(id), 0, [event], { organizationId, metadata });
    return { id, version: 1, workflow };
  }
}
