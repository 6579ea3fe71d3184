import { analyticsProjection } from '../analytics/analytics.projection';
import { auditSealerProjection } from '../audit/sealer.projection';
import { apiKeysProjection } from '../api-keys/api-keys.projection';
import { invitationsProjection } from '../organizations/invitations.projection';
import { membershipsProjection } from '../organizations/memberships.projection';
import { organizationsProjection } from '../organizations/organizations.projection';
import { eventTriggersProjection } from '../runs/event-triggers.projection';
import { orgEventsProjection } from '../runs/org-events.projection';
import { runFailuresProjection } from '../runs/run-failures.projection';
import { eventCountsProjection } from '../projections/event-counts.projection';
import { schedulesProjection } from '../schedules/schedules.projection';
import { webhooksProjection } from '../webhooks/webhooks.projection';
import { runLogsProjection } from '../projections/run-logs.projection';
import { runStateProjection } from '../run-queue/run-state.projection';
import { runWaitsProjection } from '../projections/run-waits.projection';
import type { Projection } from '../event-store/projection';
import { workflowsProjection } from '../projections/workflows.projection';

/**
 * Every read model of the application. The event store runs the inline ones inside appends,
 * the worker runs the async ones, and `thodare projections rebuild <name>` looks names up here.
 */
export const ALL_PROJECTIONS: readonly Projection[] = [
  eventCountsProjection,
  // identity (issue 3)
  organizationsProjection,
  membershipsProjection,
  invitationsProjection,
  apiKeysProjection,
  // workflows (issue 4)
  workflowsProjection,
  // runs (issue 5)
  runStateProjection,
  runWaitsProjection,
  runLogsProjection,
  runFailuresProjection,
  // organization events (issue 8)
  orgEventsProjection,
  eventTriggersProjection,
  // triggers (issue 10)
  schedulesProjection,
  webhooksProjection,
  // the audit trail (issue 11)
  auditSealerProjection,
  analyticsProjection,
];

export function findProjection(name: string): Projection | undefined {
  return ALL_PROJECTIONS.find((p) => p.name === name);
}
