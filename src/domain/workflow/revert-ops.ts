import { deepEqual } from '../connectors/builtins/compare-values';
import type { SerializedWorkflow, WorkflowBlock, WorkflowConcurrency, WorkflowConnection } from './workflow';

/** An EditOp in its wire form (API.md "Workflows"), as an agent would send it. */
export type WireOp = Record<string, unknown> & { operation_type: string };

const same = (a: unknown, b: unknown) => deepEqual(a ?? null, b ?? null);

/**
 * The EditOps that turn `current` into `target` (pure): what `POST /api/workflows/:id/revert`
 * applies through the patch pipeline, so a revert is recorded, checked and skipped op by op like
 * any other patch. Blocks gone or to be replaced are removed (with their connections), then
 * connections that differ are cut, blocks are added or updated field by field (a param the
 * target lacks is removed with `null`), connections are made, and the variables and metadata
 * follow. Between two blocks whose connections differ at all, every connection is cut and the
 * target's made again (`disconnect` without a handle cuts them all).
 */
export function opsToRevert(current: SerializedWorkflow, target: SerializedWorkflow): WireOp[] {
  const now = new Map(current.blocks.map((block) => [block.id, block]));
  const then = new Map(target.blocks.map((block) => [block.id, block]));
  // A block is replaced (removed, then added as it was) when an update cannot get it there: its
  // type changed, or it has a name the target lacks (an update sets a name, never unsets one).
  const kept = (id: string) => {
    const before = now.get(id);
    const after = then.get(id);
    return before !== undefined && after !== undefined && before.type === after.type && (before.name === undefined || after.name !== undefined);
  };
  const ops: WireOp[] = [];
  for (const block of current.blocks) if (!kept(block.id)) ops.push({ operation_type: 'remove', block_id: block.id });

  const pairsNow = pairs(current.connections);
  const pairsThen = pairs(target.connections);
  for (const [pair, edges] of pairsNow) {
    const [source, targetId] = edges[0]!;
    if (!kept(source) || !kept(targetId)) continue; // gone with a removed block
    if (!same(handles(edges), handles(pairsThen.get(pair) ?? []))) ops.push({ operation_type: 'disconnect', block_id: source, target_block_id: targetId });
  }

  for (const block of target.blocks) {
    const before = now.get(block.id);
    if (!kept(block.id)) ops.push(addOp(block));
    else {
      const update = updateOp(before!, block);
      if (update) ops.push(update);
    }
  }

  for (const [pair, edges] of pairsThen) {
    const [source, targetId] = edges[0]!;
    const existing = kept(source) && kept(targetId) ? pairsNow.get(pair) : undefined;
    if (existing && same(handles(existing), handles(edges))) continue;
    for (const [, , handle] of edges) ops.push({ operation_type: 'connect', block_id: source, target_block_id: targetId, ...(handle ? { source_handle: handle } : {}) });
  }

  const variables: Record<string, unknown> = {};
  for (const name of Object.keys(current.variables)) if (!(name in target.variables)) variables[name] = null;
  for (const [name, value] of Object.entries(target.variables)) if (!same(current.variables[name], value)) variables[name] = value;
  if (Object.keys(variables).length > 0) ops.push({ operation_type: 'set_variables', variables });

  const metadata = {
    ...(current.metadata.name !== target.metadata.name ? { name: target.metadata.name } : {}),
    ...(current.metadata.description !== target.metadata.description ? { description: target.metadata.description } : {}),
    ...(current.metadata.timeoutMs !== target.metadata.timeoutMs ? { timeout_ms: target.metadata.timeoutMs ?? null } : {}),
    ...(!same(current.metadata.concurrency, target.metadata.concurrency) ? { concurrency: concurrencyOp(target.metadata.concurrency) } : {}),
  };
  if (Object.keys(metadata).length > 0) ops.push({ operation_type: 'set_metadata', ...metadata });
  return ops;
}

/** The `set_metadata` `concurrency` that sets `concurrency` (`null`: none). */
function concurrencyOp(concurrency: WorkflowConcurrency | undefined): { limit: number; key_path?: string } | null {
  if (!concurrency) return null;
  return { limit: concurrency.limit, ...(concurrency.keyPath !== undefined ? { key_path: concurrency.keyPath } : {}) };
}

type Edge = [source: string, target: string, handle: string | undefined];

/** Connections grouped by (source, target), in the workflow's order. */
function pairs(connections: readonly WorkflowConnection[]): Map<string, Edge[]> {
  const grouped = new Map<string, Edge[]>();
  for (const c of connections) {
    const key = `${c.source}\u0000${c.target}`;
    const edge: Edge = [c.source, c.target, c.sourceHandle];
    const list = grouped.get(key);
    if (list) list.push(edge);
    else grouped.set(key, [edge]);
  }
  return grouped;
}

function handles(edges: readonly Edge[]): string[] {
  return edges.map(([, , handle]) => handle ?? '').sort();
}

function addOp(block: WorkflowBlock): WireOp {
  return {
    operation_type: 'add',
    block_id: block.id,
    type: block.type,
    ...(block.name !== undefined ? { name: block.name } : {}),
    params: block.params,
    enabled: block.enabled,
    ...(block.position ? { position: block.position } : {}),
    ...(block.retry ? { retry: block.retry } : {}),
    ...(block.timeoutMs !== undefined ? { timeout_ms: block.timeoutMs } : {}),
  };
}

/** The update that turns `before` into `after` (same id and type), or undefined when they are the same. */
function updateOp(before: WorkflowBlock, after: WorkflowBlock): WireOp | undefined {
  const params: Record<string, unknown> = {};
  for (const key of Object.keys(before.params)) if (!(key in after.params)) params[key] = null;
  for (const [key, value] of Object.entries(after.params)) if (!same(before.params[key], value)) params[key] = value;
  const changes: Record<string, unknown> = {
    ...(Object.keys(params).length > 0 ? { params } : {}),
    ...(before.name !== after.name ? { name: after.name } : {}),
    ...(before.enabled !== after.enabled ? { enabled: after.enabled } : {}),
    ...(after.position && !same(before.position, after.position) ? { position: after.position } : {}),
    ...(!same(before.retry, after.retry) ? { retry: after.retry ?? null } : {}),
    ...(before.timeoutMs !== after.timeoutMs ? { timeout_ms: after.timeoutMs ?? null } : {}),
  };
  return Object.keys(changes).length > 0 ? { operation_type: 'update', block_id: after.id, ...changes } : undefined;
}
