import { EVENT_TRIGGER_TYPE } from '../connectors/builtins/trigger.connectors';
import type { SerializedWorkflow } from './workflow';

/**
 * The event a workflow starts on: its first enabled `trigger_event` block's `eventName` (a
 * workflow has one trigger; more is a validation error, and such a workflow cannot start).
 * Undefined without one, or when the name is not a usable string (validation says so).
 */
export function eventTriggerOf(workflow: SerializedWorkflow): { blockId: string; eventName: string } | undefined {
  const block = workflow.blocks.find((b) => b.enabled && b.type === EVENT_TRIGGER_TYPE);
  const eventName = block?.params.eventName;
  return block && typeof eventName === 'string' && eventName.length > 0 ? { blockId: block.id, eventName } : undefined;
}
