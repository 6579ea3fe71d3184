import { nearestName } from '../connectors/edit-distance';
import { cycleIfConnected } from './dag';
import { checkHandle } from './edge-handles';
import type { ConnectOp, DisconnectOp } from './edit-op.schema';
import { APPLIED, type OpContext, type OpOutcome, quoteList, skip } from './op-outcome';
import { clip } from './op-record';
import type { WorkflowConnection } from './workflow';
import { addEdge, childrenOf, edgeKey, edgesBetween, removeEdge } from './workflow-draft';

/**
 * Connects block_id → target_block_id. A connect naming a block that a later op of the batch
 * adds is deferred to the end of the batch (agents often send edges first).
 */
export function applyConnect(ctx: OpContext, op: ConnectOp): OpOutcome {
  const { draft, catalog } = ctx;
  const source = op.block_id;
  const target = op.target_block_id;
  const handle = op.source_handle ?? undefined;
  const sourceBlock = draft.blocks.get(source);
  const targetBlock = draft.blocks.get(target);
  if (
    (!sourceBlock || !targetBlock) &&
    ctx.mayDefer &&
    (sourceBlock || addedLater(ctx, source)) &&
    (targetBlock || addedLater(ctx, target))
  ) {
    return { kind: 'deferred' };
  }
  if (!sourceBlock) return missingEnd(ctx, op, 'source');
  if (!targetBlock) return missingEnd(ctx, op, 'target');
  if (source === target)
    return skip(
      'cycle_introduced',
      `Block "${source}" cannot connect to itself: workflows are acyclic.`,
    );
  const targetConnector = catalog.get(targetBlock.type);
  if (targetConnector?.kind === 'trigger') {
    return skip(
      'invalid_edge_target',
      `"${target}" is a trigger (${targetBlock.type}): a trigger starts the run and cannot have incoming connections.`,
      {
        hint: 'Connect from the trigger to the other block instead.',
        suggestion: { operation_type: 'connect', block_id: target, target_block_id: source },
      },
    );
  }
  const handleSkip = checkHandle(catalog.get(sourceBlock.type), op);
  if (handleSkip) return handleSkip;
  if (draft.edges.has(edgeKey(source, target, handle))) {
    return skip(
      'duplicate_connection',
      `The connection "${source}" → "${target}"${handle ? ` (source_handle "${handle}")` : ''} already exists.`,
      {
        hint: 'Nothing to do: drop this op.',
      },
    );
  }
  if (draft.edges.size >= ctx.maxConnections) {
    return skip(
      'workflow_too_large',
      `The workflow already has ${draft.edges.size} connections, the most allowed (${ctx.maxConnections}).`,
    );
  }
  const cycle = cycleIfConnected(source, target, (id) => childrenOf(draft, id));
  if (cycle) {
    return skip(
      'cycle_introduced',
      `Connecting "${source}" → "${target}" would close the cycle ${describePath([source, ...cycle])}: workflows are acyclic.`,
      {
        hint: `"${target}" already runs before "${source}". To use its output downstream, connect in that direction only.`,
      },
    );
  }
  const connection: WorkflowConnection = { source, target };
  if (handle !== undefined) connection.sourceHandle = handle;
  addEdge(draft, connection);
  return APPLIED;
}

/** Removes source → target connections: the one with `source_handle`, or all when it is absent. */
export function applyDisconnect(ctx: OpContext, op: DisconnectOp): OpOutcome {
  const { draft } = ctx;
  const source = op.block_id;
  const target = op.target_block_id;
  const handle = op.source_handle ?? undefined;
  const between = edgesBetween(draft, source, target);
  const matching = between.filter((edge) => handle === undefined || edge.sourceHandle === handle);
  if (matching.length === 0) {
    const missing = [source, target].filter((id) => !draft.blocks.has(id));
    const other = between[0];
    const reason =
      missing.length > 0
        ? `There is no connection "${clip(source, 80)}" → "${clip(target, 80)}": no block ${quoteList(missing)} exists.`
        : `There is no connection "${source}" → "${target}"${handle ? ` with source_handle "${handle}"` : ''}.`;
    const targets = [...childrenOf(draft, source)];
    return skip('edge_not_found', reason, {
      hint: targets.length > 0 ? `"${source}" connects to ${quoteList(targets)}.` : undefined,
      suggestion: other ? { ...op, source_handle: other.sourceHandle ?? null } : undefined,
    });
  }
  for (const edge of matching)
    removeEdge(draft, edgeKey(edge.source, edge.target, edge.sourceHandle));
  return APPLIED;
}

function describePath(path: readonly string[]): string {
  const shown =
    path.length > 8
      ? [...path.slice(0, 5), `… ${path.length - 7} more …`, ...path.slice(-2)]
      : path;
  return shown.join(' → ');
}

function addedLater(ctx: OpContext, id: string): boolean {
  return ctx.adds.get(id)?.some((index) => index > ctx.index) ?? false;
}

function missingEnd(ctx: OpContext, op: ConnectOp, end: 'source' | 'target'): OpOutcome {
  const id = end === 'source' ? op.block_id : op.target_block_id;
  const field = end === 'source' ? 'block_id' : 'target_block_id';
  const nearest = nearestName(id, [...ctx.draft.blocks.keys()]);
  const added = ctx.adds.get(id);
  const reason = added
    ? `The ${end} block "${clip(id, 80)}" does not exist: op #${added[0]} of this batch was to add it, but that op was skipped (see its skipped item) or a later op removed the block.`
    : `The ${end} block "${clip(id, 80)}" does not exist.`;
  return skip(end === 'source' ? 'invalid_edge_source' : 'invalid_edge_target', reason, {
    hint: nearest
      ? `Did you mean "${nearest}"?`
      : `Existing blocks: ${quoteList(ctx.draft.blocks.keys())}.`,
    suggestion: nearest ? { ...op, [field]: nearest } : undefined,
  });
}
