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

/** A block of the pinned workflow with everything the run needs about it, fixed at start (never changed: runs share it). */
export interface RunBlock {
  readonly id: string;
  readonly type: string;
  readonly enabled: boolean;
  readonly params: Record<string, unknown>;
  readonly role: BlockRole;
  /** Set when `type` is one of the built-in waits. */
  readonly waitType?: WaitType;
  readonly retry: RetryPolicy;
  readonly timeoutMs?: number;
  /** Edges out of this block, in the workflow's connection order. */
  readonly out: readonly RunEdge[];
  /** Number of edges into this block. */
  readonly inCount: number;
  readonly hasErrorEdge: boolean;
}

/** A block while its graph is being built (`buildRunGraph` alone writes one). */
type BlockBuilding = { -readonly [K in keyof RunBlock]: RunBlock[K] } & { out: RunEdge[] };

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
  const known = built.get(workflow);
  if (known && known.pins === pins) return known.graph;
  const graph = graphOf(workflow, pins);
  built.set(workflow, { pins, graph });
  return graph;
}

/**
 * Graphs already built, by the workflow object (and the pins object) they were built from. A
 * graph is never changed once built, and a workflow object is never changed once pinned; every
 * run of one pinned workflow in a process shares those objects (the start's handler pins them
 * once; stored starts resolve to one definition object per digest). A 100-block workflow's graph
 * took ~0.4 ms and was built at every fold of one of its runs: twice per start (the start's, the
 * worker's) and again at each claim.
 */
const built = new WeakMap<SerializedWorkflow, { pins: BlockPins | undefined; graph: RunGraph }>();

function graphOf(workflow: SerializedWorkflow, pins: BlockPins | undefined): RunGraph {
  const blocks = new Map<string, BlockBuilding>();
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

function runBlock(block: WorkflowBlock, pin: PinnedBlock): BlockBuilding {
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
