import type { RecordedEvent } from '../event-store/event';
import type { AppendHint } from '../event-store/projection';
import type { SerializedWorkflow } from '../domain/workflow/workflow';

/**
 * What a workflow patch's writer tells the trigger read models with its append: the workflow the
 * patch started from, whose event was the last to define the workflow's triggers.
 */
export interface WorkflowAppendHint extends AppendHint {
  readonly kind: 'workflow';
  readonly previous: SerializedWorkflow;
}

export function workflowAppendHint(streamId: string, previous: SerializedWorkflow): WorkflowAppendHint {
  return { kind: 'workflow', streamId, previous };
}

/**
 * Whether the workflow had no trigger of a kind (`triggerOf` finds none) before `event`: always
 * for a new workflow; for a patch, only when its writer told the workflow it started from. A
 * trigger read model keeps a live row for a workflow only while the workflow's last defining
 * event had such a trigger, and nothing else revives one, so an event without the trigger after
 * one without it has nothing to change there. A rebuild is told nothing: it writes, to the same rows.
 */
export function hadNoTrigger(event: RecordedEvent, hint: AppendHint | undefined, triggerOf: (workflow: SerializedWorkflow) => unknown): boolean {
  if (event.type === 'WorkflowCreated') return true;
  if (event.type !== 'WorkflowPatched' || hint?.kind !== 'workflow' || hint.streamId !== event.streamId) return false;
  return triggerOf((hint as WorkflowAppendHint).previous) === undefined;
}
