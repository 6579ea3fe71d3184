import { eventTriggerOf } from '../domain/workflow/event-trigger';
import type { SerializedWorkflow } from '../domain/workflow/workflow';
import type { Projection } from '../event-store/projection';
import { hadNoTrigger } from '../workflows/workflow-append-hint';
import { workflowIdOf } from '../workflows/workflow.events';

/**
 * `event_triggers` (migrations/0026): which workflow a published organization event of a name
 * starts. Inline, so an event published right after the patch that added (or removed) a
 * workflow's `trigger_event` block commits starts it (or no longer does). A deleted workflow, or
 * one whose trigger is gone or disabled, has no row.
 */
export const eventTriggersProjection: Projection = {
  name: 'event_triggers',
  mode: 'inline',
  handles: ['WorkflowCreated', 'WorkflowPatched', 'WorkflowDeleted'],
  tables: ['event_triggers'],
  async apply(db, event, hint) {
    const workflowId = workflowIdOf(event.streamId);
    const trigger = event.type === 'WorkflowDeleted' ? undefined : eventTriggerOf((event.data as { workflow: SerializedWorkflow }).workflow);
    if (!trigger) {
      // A workflow that had no trigger before has no row to remove.
      if (!hadNoTrigger(event, hint, eventTriggerOf)) await db.query('DELETE FROM event_triggers WHERE workflow_id = $1', [workflowId]);
      return;
    }
    await db.query(
      `INSERT INTO event_triggers (workflow_id, organization_id, block_id, event_name, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT ON CONSTRAINT event_triggers_pkey DO UPDATE SET block_id = EXCLUDED.block_id, event_name = EXCLUDED.event_name, updated_at = EXCLUDED.updated_at`,
      [workflowId, event.organizationId, trigger.blockId, trigger.eventName, event.recordedAt],
    );
  },
};
