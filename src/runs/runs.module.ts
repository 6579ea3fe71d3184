import { Global, Module, type DynamicModule } from '@nestjs/common';
import { ApprovalsController } from './approvals.controller';
import { ApprovalsInboxController } from './approvals-inbox.controller';
import { CancelRunHandler } from './cancel-run.command';
import { CancelWorkflowRunsHandler } from './cancel-workflow-runs.command';
import { RerunWorkflowRunsHandler } from './rerun-workflow-runs.command';
import { RerunRunHandler } from './rerun-run.command';
import { DecideApprovalHandler } from './decide-approval.command';
import { GetApprovalHandler } from './get-approval.query';
import { GetRunHandler } from './get-run.query';
import { ListApprovalsHandler } from './list-approvals.query';
import { ListRunsHandler } from './list-runs.query';
import { GetOrgEventHandler, ListOrgEventsHandler } from './list-org-events.query';
import { GetWorkflowConcurrencyHandler } from './get-workflow-concurrency.query';
import { OrgEventsController } from './org-events.controller';
import { PublishEventHandler } from './publish-event.command';
import { RunChanges } from './run-changes';
import { runDeciderProvider, RUN_DECIDER } from './run-decider.provider';
import { RunEventsHandler } from './run-events.query';
import { RunHandoff } from './run-handoff';
import { EventTriggerStarts } from './event-trigger-starts';
import { RunLogsHandler } from './run-logs.query';
import { RunStore } from './run-store';
import { RunReads } from './run-reads';
import { RunCommands } from './run-commands';
import { RunStreamController } from './run-stream.controller';
import { RunStreamWatch } from './run-stream-watch';
import { RunWaiter } from './run-waiter';
import { HeldRequests } from '../http/held-requests';
import { RunsController } from './runs.controller';
import { CurrentWorkflows, currentWorkflowsProvider } from '../workflows/current-workflows';
import { SignalRunHandler } from './signal-run.command';
import { StartRunHandler } from './start-run.command';
import { StartRunsHandler } from './start-runs.command';
import { WorkflowRunsController } from './workflow-runs.controller';

const commandHandlers = [StartRunHandler, StartRunsHandler, CancelRunHandler, CancelWorkflowRunsHandler, RerunRunHandler, RerunWorkflowRunsHandler, SignalRunHandler, PublishEventHandler, DecideApprovalHandler];
const queryHandlers = [GetRunHandler, ListRunsHandler, RunLogsHandler, RunEventsHandler, GetApprovalHandler, ListApprovalsHandler, ListOrgEventsHandler, GetOrgEventHandler, GetWorkflowConcurrencyHandler];

/**
 * Runs: the run store, change hints and the run commands and queries, in every process (workers
 * and schedulers start runs too); `http: true` also serves the run routes. Global, so the worker
 * module and other capabilities inject `RunStore` and dispatch `StartRunCommand` without
 * importing it.
 */
@Global()
@Module({})
export class RunsModule {
  static register(options: { http: boolean }): DynamicModule {
    return {
      module: RunsModule,
      controllers: options.http ? [WorkflowRunsController, RunsController, RunStreamController, OrgEventsController, ApprovalsController, ApprovalsInboxController] : [],
      providers: [
        runDeciderProvider,
        RunChanges,
        RunStore,
        RunReads,
        RunCommands,
        RunWaiter,
        RunHandoff,
        EventTriggerStarts,
        RunStreamWatch,
        HeldRequests,
        currentWorkflowsProvider,
        ...commandHandlers,
        ...queryHandlers,
      ],
      exports: [RUN_DECIDER, RunChanges, RunStore, RunCommands, RunHandoff, EventTriggerStarts, HeldRequests, CurrentWorkflows],
    };
  }
}
