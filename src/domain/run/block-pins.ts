import type { SerializedWorkflow, WorkflowBlock } from '../workflow/workflow';
import { isWaitType, type BlockKind, type SpecLookup } from './block-spec';
import { retryPolicyOf, type RetryPolicy } from './retry-policy';

/**
 * What a run needs of one block's connector, fixed when the run starts and recorded in
 * `RunStarted` beside the workflow JSON. Replay reads only this, so a deploy that changes a
 * connector's kind, retry policy, timeout or outputs never changes how a recorded run replays.
 */
export interface PinnedBlock {
  /** `unregistered`: no connector had this type when the run started (the run fails on reaching it). */
  kind: BlockKind | 'unregistered';
  /** The full policy (defaults applied), never overrides: defaults may change too. */
  retry: RetryPolicy;
  /** Per-attempt timeout in ms. */
  timeoutMs?: number;
  /** The output names the connector declared. */
  outputs: string[];
}

/** Block id → its pin. */
export type BlockPins = Record<string, PinnedBlock>;

/**
 * Pins every block of `workflow` through `specOf` (the deployment's catalog). Wait types are
 * recognised by name whatever the lookup says. An action block's own `retry` / `timeoutMs`
 * (validated against the connector's bounds before any run starts) override the connector's,
 * so the effective policy is fixed here, from the pinned workflow. O(blocks).
 */
export function pinBlocks(workflow: SerializedWorkflow, specOf: SpecLookup): BlockPins {
  const pins: BlockPins = Object.create(null) as BlockPins;
  for (const block of workflow.blocks) {
    const spec = specOf(block.type, block);
    const kind = isWaitType(block.type) ? 'wait' : (spec?.kind ?? 'unregistered');
    const own: Pick<WorkflowBlock, 'retry' | 'timeoutMs'> = kind === 'action' ? block : {};
    const timeoutMs = own.timeoutMs ?? spec?.timeoutMs;
    pins[block.id] = {
      kind,
      retry: retryPolicyOf({ ...spec?.retry, ...own.retry }),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      outputs: [...(spec?.outputs ?? [])],
    };
  }
  return pins;
}

/** The pin of a block missing from `RunStarted.blocks` (a stream older than pinning): never run. */
export const UNPINNED: PinnedBlock = { kind: 'unregistered', retry: retryPolicyOf(), outputs: [] };
