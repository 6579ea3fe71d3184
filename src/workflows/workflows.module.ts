import { Module } from '@nestjs/common';
import { CreateWorkflowHandler } from './create-workflow.command';
import { DeleteWorkflowHandler } from './delete-workflow.command';
import { GetWorkflowHandler } from './get-workflow.query';
import { ListWorkflowsHandler } from './list-workflows.query';
import { PatchWorkflowHandler } from './patch-workflow.command';
import { RevertWorkflowHandler } from './revert-workflow.command';
import { WorkflowHistoryController } from './workflow-history.controller';
import { WorkflowHistoryHandler } from './workflow-history.query';
import { WorkflowPatchController } from './workflow-patch.controller';
import { WorkflowVersionHandler } from './workflow-version.query';
import { WorkflowsController } from './workflows.controller';

/**
 * Workflows and the EditOp patch loop (HTTP only: the runtime reads workflows through
 * `getCurrentWorkflow`, not through this module). Needs the global CONNECTOR_CATALOG.
 */
@Module({
  controllers: [WorkflowsController, WorkflowPatchController, WorkflowHistoryController],
  providers: [
    CreateWorkflowHandler,
    PatchWorkflowHandler,
    RevertWorkflowHandler,
    DeleteWorkflowHandler,
    GetWorkflowHandler,
    ListWorkflowsHandler,
    WorkflowHistoryHandler,
    WorkflowVersionHandler,
  ],
})
export class WorkflowsModule {}
