import { runIdOf, type RunEvent } from '../domain/run/run.events';
import type { Actor, RecordedEvent } from '../event-store/event';
import { workflowIdOf, type WorkflowEvent } from '../workflows/workflow.events';

/**
 * What one event changes in the analytics tables, as plain rows: the writer groups a batch's
 * changes by kind and applies each kind in one statement. Only codes, times and counts are kept:
 * never an input, an output, an error message or a note (they may quote hidden values).
 */
export type AnalyticsChange =
  | { kind: 'runStart'; runId: string; organizationId: string; workflowId: string; workflowVersion: number; triggerKind: TriggerKind; actorType: string; actorId: string; agent: string | null; recordedAt: Date; startedAt: string; blockTypes: string; rerunOf: string | null; concurrencyKey: string | null }
  | { kind: 'admitted'; runId: string; at: string }
  | { kind: 'attemptStart'; id: number; runId: string; organizationId: string; blockId: string; connectorType: string | null; attempt: number; at: string }
  | { kind: 'attemptEnd'; runId: string; blockId: string; attempt: number; status: 'succeeded' | 'failed'; final: boolean; errorCode: string | null; at: string; durationMs: number }
  | { kind: 'backoff'; runId: string; blockId: string; attempt: number; availableAt: string }
  | { kind: 'waitStart'; runId: string; organizationId: string; blockId: string; waitKind: string; eventName: string | null; at: string; until: string | null }
  | { kind: 'decision'; runId: string; blockId: string; decision: 'approved' | 'rejected'; by: string | null; at: string }
  | { kind: 'waitEnd'; runId: string; blockId: string; reason: string; at: string }
  | { kind: 'runEnd'; runId: string; status: 'completed' | 'failed' | 'cancelled'; at: string; errorCode: string | null; errorBlockId: string | null }
  | { kind: 'edit'; workflowId: string; transactionId: string; organizationId: string; position: number; editKind: EditKind; version: number; actorType: string; actorId: string; agent: string | null; applied: number; skipCodes: string[]; recordedAt: Date };

export type ChangeOf<K extends AnalyticsChange['kind']> = Extract<AnalyticsChange, { kind: K }>;

/** How a run was triggered, from the actor that started it. */
export type TriggerKind = 'api' | 'schedule' | 'webhook' | 'event' | 'system';

/** `unchanged`: a batch that changed nothing (every op skipped); a later WorkflowPatched of the same batch makes it `patched`. */
export type EditKind = 'created' | 'patched' | 'unchanged' | 'deleted';

export const RUN_TYPES = [
  'RunStarted', 'RunAdmitted', 'StepAttemptStarted', 'StepAttemptSucceeded', 'StepAttemptFailed', 'StepRetryScheduled', 'RunSleeping',
  'RunWaitingForEvent', 'ApprovalRequested', 'ApprovalDecided', 'WaitCompleted', 'RunCompleted', 'RunFailed', 'RunCancelled',
] as const;
export const WORKFLOW_TYPES = ['WorkflowCreated', 'EditOpApplied', 'EditOpSkipped', 'WorkflowPatched', 'WorkflowDeleted'] as const;

export function triggerKindOf(actorType: string): TriggerKind {
  if (actorType === 'schedule' || actorType === 'webhook' || actorType === 'event' || actorType === 'system') return actorType;
  return 'api';
}

/** Pure: the analytics changes of one recorded event. */
export function analyticsChanges(recorded: RecordedEvent): AnalyticsChange[] {
  if (recorded.streamId.startsWith('run-')) return runChanges(recorded);
  if ((WORKFLOW_TYPES as readonly string[]).includes(recorded.type)) return [editChange(recorded)];
  return [];
}

function runChanges(recorded: RecordedEvent): AnalyticsChange[] {
  const event = { type: recorded.type, data: recorded.data } as RunEvent;
  const runId = runIdOf(recorded.streamId);
  const organizationId = recorded.organizationId;
  const wait = (blockId: string, waitKind: string, at: string, until: string | undefined, eventName: string | null = null): AnalyticsChange =>
    ({ kind: 'waitStart', runId, organizationId, blockId, waitKind, eventName, at, until: until ?? null });
  switch (event.type) {
    case 'RunStarted': {
      const { workflowId, workflowVersion, workflow, startedAt, rerun, concurrency } = event.data;
      const actor = actorOf(recorded);
      const blockTypes = blockTypesOf(workflow.blocks);
      return [{ kind: 'runStart', runId, organizationId, workflowId, workflowVersion, triggerKind: triggerKindOf(actor.type), actorType: actor.type, actorId: actor.id, agent: recorded.metadata.agent ?? null, recordedAt: recorded.recordedAt, startedAt, blockTypes, rerunOf: rerun?.of ?? null, concurrencyKey: concurrency?.key ?? null }];
    }
    case 'RunAdmitted':
      return [{ kind: 'admitted', runId, at: event.data.at }];
    case 'StepAttemptStarted': {
      const { blockId, blockType, attempt, at } = event.data;
      return [{ kind: 'attemptStart', id: recorded.globalPosition, runId, organizationId, blockId, connectorType: blockType, attempt, at }];
    }
    case 'StepAttemptSucceeded': {
      const { blockId, attempt, at, durationMs } = event.data;
      return [{ kind: 'attemptEnd', runId, blockId, attempt, status: 'succeeded', final: true, errorCode: null, at, durationMs: Math.round(durationMs) }];
    }
    case 'StepAttemptFailed': {
      // An attempt can fail without having started (a wait's params rejected): its row opens here.
      const { blockId, attempt, at, durationMs, error, terminal } = event.data;
      return [
        { kind: 'attemptStart', id: recorded.globalPosition, runId, organizationId, blockId, connectorType: null, attempt, at },
        { kind: 'attemptEnd', runId, blockId, attempt, status: 'failed', final: terminal, errorCode: error.code, at, durationMs: Math.round(durationMs ?? 0) },
      ];
    }
    case 'StepRetryScheduled':
      return [{ kind: 'backoff', runId, blockId: event.data.blockId, attempt: event.data.nextAttempt - 1, availableAt: event.data.availableAt }];
    case 'RunSleeping':
      return [wait(event.data.blockId, 'wait_duration', event.data.at, event.data.until)];
    case 'RunWaitingForEvent':
      return [wait(event.data.blockId, 'wait_for_event', event.data.at, event.data.until, event.data.eventName)];
    case 'ApprovalRequested':
      return [wait(event.data.blockId, 'human_approval', event.data.at, event.data.until)];
    case 'ApprovalDecided': {
      const { blockId, approved, by, at } = event.data;
      const actor = actorOf(recorded);
      const decider = by ?? (actor.type === 'user' || actor.type === 'api_key' ? actor.id : null);
      return [{ kind: 'decision', runId, blockId, decision: approved ? 'approved' : 'rejected', by: decider, at }];
    }
    case 'WaitCompleted':
      return [{ kind: 'waitEnd', runId, blockId: event.data.blockId, reason: event.data.reason, at: event.data.at }];
    case 'RunCompleted':
      return [{ kind: 'runEnd', runId, status: 'completed', at: event.data.at, errorCode: null, errorBlockId: null }];
    case 'RunFailed':
      return [{ kind: 'runEnd', runId, status: 'failed', at: event.data.at, errorCode: event.data.error.code, errorBlockId: event.data.error.blockId ?? null }];
    case 'RunCancelled':
      return [{ kind: 'runEnd', runId, status: 'cancelled', at: event.data.at, errorCode: null, errorBlockId: null }];
    default:
      return [];
  }
}

/**
 * Block id → type as JSON, kept per pinned `blocks` array: the runs of one definition share it
 * (`resolveRunDefinitions`), so a burst of a thousand runs of one workflow writes it once.
 */
const blockTypesByBlocks = new WeakMap<readonly { id: string; type: string }[], string>();

function blockTypesOf(blocks: readonly { id: string; type: string }[]): string {
  let types = blockTypesByBlocks.get(blocks);
  if (types === undefined) {
    types = JSON.stringify(Object.fromEntries(blocks.map((b) => [b.id, b.type])));
    blockTypesByBlocks.set(blocks, types);
  }
  return types;
}

/** Every event records an actor; a projection still never throws over one that lacks it (it would be parked). */
function actorOf(recorded: RecordedEvent): Actor {
  return recorded.metadata?.actor ?? { type: 'system', id: 'unknown' };
}

function editChange(recorded: RecordedEvent): AnalyticsChange {
  const event = { type: recorded.type, data: recorded.data } as WorkflowEvent;
  const base = {
    kind: 'edit' as const,
    workflowId: workflowIdOf(recorded.streamId),
    transactionId: recorded.transactionId,
    organizationId: recorded.organizationId,
    position: recorded.globalPosition,
    version: event.data.version,
    actorType: actorOf(recorded).type,
    actorId: actorOf(recorded).id,
    agent: recorded.metadata.agent ?? null,
    recordedAt: recorded.recordedAt,
  };
  switch (event.type) {
    case 'WorkflowCreated':
      return { ...base, editKind: 'created', applied: 0, skipCodes: [] };
    case 'EditOpApplied':
      return { ...base, editKind: 'unchanged', applied: 1, skipCodes: [] };
    case 'EditOpSkipped':
      return { ...base, editKind: 'unchanged', applied: 0, skipCodes: [event.data.reason_code] };
    case 'WorkflowPatched':
      return { ...base, editKind: 'patched', applied: 0, skipCodes: [] };
    case 'WorkflowDeleted':
      return { ...base, editKind: 'deleted', applied: 0, skipCodes: [] };
  }
}
