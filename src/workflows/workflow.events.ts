import type { ApplyResult } from '../domain/workflow/apply-result';
import type { SerializedWorkflow } from '../domain/workflow/workflow';

/**
 * Facts on a `workflow-<id>` stream. Every event carries `version`: the workflow version the
 * event's batch resulted in (what the history shows). Only WorkflowCreated and
 * WorkflowPatched carry the workflow JSON, so the read model and past versions are a plain
 * fold that never re-runs `apply` (whose outcome depends on the deployed catalog).
 */
export type WorkflowEvent =
  | { type: 'WorkflowCreated'; data: { workflowId: string; version: 1; workflow: SerializedWorkflow } }
  | { type: 'EditOpApplied'; data: AppliedOpData }
  | { type: 'EditOpSkipped'; data: SkippedOpData }
  | { type: 'WorkflowPatched'; data: { version: number; previousVersion: number; applied: number; skipped: number; workflow: SerializedWorkflow } }
  | { type: 'WorkflowDeleted'; data: { version: number } };

export type WorkflowEventType = WorkflowEvent['type'];

/** An op that applied, as `apply` recorded it (canonical, hidden values impossible). */
export interface AppliedOpData {
  version: number;
  index: number;
  operation_type: string;
  block_id: string | null;
  op: Record<string, unknown>;
}

/** An op that was skipped, with its reason; `op` and `suggestion` hold no hidden value. */
export interface SkippedOpData {
  version: number;
  index: number;
  operation_type: string | null;
  block_id: string | null;
  reason_code: string;
  reason: string;
  hint?: string;
  suggestion?: Record<string, unknown>;
  op: unknown;
}

export const WORKFLOW_STREAM_PREFIX = 'workflow-';

export function workflowStream(workflowId: string): string {
  return `${WORKFLOW_STREAM_PREFIX}${workflowId}`;
}

export function workflowIdOf(streamId: string): string {
  return streamId.slice(WORKFLOW_STREAM_PREFIX.length);
}

/**
 * The events of one patch batch, in the order they are appended: applied ops (in application
 * order), skipped ops (in batch order), then one WorkflowPatched when anything applied. A batch
 * whose every op was skipped records its skips and bumps nothing.
 */
export function patchEvents(result: ApplyResult, previousVersion: number): WorkflowEvent[] {
  const version = result.changed ? previousVersion + 1 : previousVersion;
  const events: WorkflowEvent[] = result.applied.map((item) => ({
    type: 'EditOpApplied',
    data: { version, index: item.index, operation_type: item.operation_type, block_id: item.block_id, op: item.op },
  }));
  for (const item of result.skipped_items) events.push({ type: 'EditOpSkipped', data: { version, ...item } });
  if (result.changed) {
    events.push({
      type: 'WorkflowPatched',
      data: { version, previousVersion, applied: result.applied.length, skipped: result.skipped_items.length, workflow: result.workflow },
    });
  }
  return events;
}
