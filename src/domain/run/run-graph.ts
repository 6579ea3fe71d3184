import type { SerializedWorkflow, WorkflowBlock } from '../workflow/workflow';
import { isWaitType, type WaitType } from './block-spec';
import { UNPINNED, type BlockPins, type PinnedBlock } from './block-pins';
import type { RetryPolicy } from './retry-policy';

/** Which outcome of its source an edge follows; any handle but these three is `default`. */
export type EdgeHandle = 'default' | 'error' | 'true' | 'false';

/** An edge out of a block. */
export interface RunEdge {
  target: string;
  handle: EdgeHandle;
}

/** A block's role in the run; `unregistered` = the lookup does not know its type. */
export type BlockRole = 'trigger' | 'action' | 'wait' | 'unregistered';

/** A block of the pinned workflow with everything the run needs about it, fixed at start. */
export interface RunBlock {
  id: string;
  type: string;
  enabled: boolean;
  params: Record<string, unknown>;
  role: BlockRole;
  /** Set when `type` is one of the built-in waits. */
  waitType?: WaitType;
  retry: RetryPolicy;
  timeoutMs?: number;
  /** Edges out of this block, in the workflow's connection order. */
  out: RunEdge[];
  /** Number of edges into this block. */
  inCount: number;
  hasErrorEdge: boolean;
}

/** The pinned workflow as an adjacency structure, built once per run in O(blocks + edges). */
export interface RunGraph {
  blocks: ReadonlyMap<string, RunBlock>;
}

/** How a block settled, which decides the edges it takes. */
export type Settlement =
  | { kind: 'succeeded'; output: unknown }
  | { kind: 'failed' }
  | { kind: 'skipped'; passThrough: boolean };

/** The empty graph of a run that has not started. */
export const EMPTY_GRAPH: RunGraph = { blocks: new Map() };

/**
 * Builds the run graph from the workflow and the pins recorded beside it. Edges naming a missing
 * block are ignored (validation reports them before a run can start).
 */
export function buildRunGraph(workflow: SerializedWorkflow, pins: BlockPins | undefined): RunGraph {
  const blocks = new Map<string, RunBlock>();
  for (const block of workflow.blocks) blocks.set(block.id, runBlock(block, pins?.[block.id] ?? UNPINNED));
  for (const connection of workflow.connections) {
    const source = blocks.get(connection.source);
    const target = blocks.get(connection.target);
    if (!source || !target) continue;
    const handle = handleOf(connection.sourceHandle);
    source.out.push({ target: target.id, handle });
    if (handle === 'error') source.hasErrorEdge = true;
    target.inCount += 1;
  }
  return { blocks };
}

/** Normalises a connection's `sourceHandle`. */
export function handleOf(sourceHandle: string | undefined): EdgeHandle {
  return sourceHandle === 'error' || sourceHandle === 'true' || sourceHandle === 'false'
    ? sourceHandle
    : 'default';
}

/**
 * Whether an edge with `handle` is taken once its source settled so:
 * - succeeded: `default` edges; `true`/`false` when the output's `result` is (not) `true`;
 * - failed (terminal, handled): only `error` edges;
 * - skipped as disabled (pass-through): only `default` edges;
 * - skipped as not taken: none, so skipping flows on to blocks with no live parent left.
 */
export function edgeTaken(handle: EdgeHandle, settlement: Settlement): boolean {
  switch (settlement.kind) {
    case 'succeeded':
      if (handle === 'error') return false;
      if (handle === 'default') return true;
      return (conditionResult(settlement.output) === true) === (handle === 'true');
    case 'failed':
      return handle === 'error';
    case 'skipped':
      return settlement.passThrough && handle === 'default';
  }
}

function conditionResult(output: unknown): unknown {
  return typeof output === 'object' && output !== null
    ? (output as Record<string, unknown>)['result']
    : undefined;
}

function runBlock(block: WorkflowBlock, pin: PinnedBlock): RunBlock {
  const waitType = isWaitType(block.type) && pin.kind === 'wait' ? block.type : undefined;
  const role: BlockRole = pin.kind;
  return {
    id: block.id,
    type: block.type,
    enabled: block.enabled !== false,
    params: block.params ?? {},
    role,
    ...(waitType ? { waitType } : {}),
    retry: pin.retry,
    ...(pin.timeoutMs !== undefined ? { timeoutMs: pin.timeoutMs } : {}),
    out: [],
    inCount: 0,
    hasErrorEdge: false,
  };
}
