import type { WorkflowBlock } from '../workflow/workflow';
import type { RetryPolicy } from './retry-policy';

/** How a block takes part: a trigger starts the run, an action calls a connector, a wait parks. */
export type BlockKind = 'trigger' | 'action' | 'wait';

/**
 * What the run domain needs to know about a block type. The connector registry provides it through
 * a {@link SpecLookup}; the run domain never imports the registry, so the two evolve separately.
 */
export interface BlockSpec {
  kind: BlockKind;
  /** Overrides of {@link DEFAULT_RETRY_POLICY} for this block type (or this block). */
  retry?: Partial<RetryPolicy>;
  /** Per-attempt timeout in ms; the shell aborts the connector call and reports `step_timeout`. */
  timeoutMs?: number;
  /** The output names the block declares. */
  outputs?: readonly string[];
}

/**
 * Looks a block type up; `undefined` means the type is not registered. The block itself is passed
 * too, so a shell can apply per-block overrides; a plain `(type) => spec` function fits as well.
 * Called once per block when a run starts: the answers are pinned in `RunStarted` (see `pinBlocks`).
 */
export type SpecLookup = (type: string, block: WorkflowBlock) => BlockSpec | undefined;

/** The wait block types the runtime understands, recognised by name whatever the lookup says. */
export const WAIT_TYPES = ['wait_duration', 'wait_for_event', 'human_approval'] as const;

/** One of {@link WAIT_TYPES}. */
export type WaitType = (typeof WAIT_TYPES)[number];

/** Whether `type` names one of the built-in waits. */
export function isWaitType(type: string): type is WaitType {
  return (WAIT_TYPES as readonly string[]).includes(type);
}
