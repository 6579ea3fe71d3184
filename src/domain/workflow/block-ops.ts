import type { Connector } from '../connectors/connector';
import { nearestName } from '../connectors/edit-distance';
import { blockIdProblem, repairBlockId } from './block-id';
import type { AddOp, RemoveOp, UpdateOp } from './edit-op.schema';
import { APPLIED, type OpContext, type OpOutcome, quoteList, skip } from './op-outcome';
import { clip, safeJsonCopy } from './op-record';
import { guardParams, type ParamPolicy } from './param-guards';
import { tooHeavy } from './params-weight';
import type { WorkflowBlock } from './workflow';
import { removeBlock } from './workflow-draft';

/** Adds a block. Checks, in order: id format, id free, type registered, size cap, params guard. */
export function applyAdd(ctx: OpContext, op: AddOp): OpOutcome {
  const { draft, catalog } = ctx;
  const connector = catalog.get(op.type);
  const idProblem = blockIdProblem(op.block_id, connector?.kind === 'trigger');
  if (idProblem) {
    const repaired = repairBlockId(op.block_id);
    return skip(
      'invalid_block_id',
      `Block id "${clip(op.block_id, 80)}" is invalid: ${idProblem}.`,
      {
        hint: 'Use the corrected id in every later op that refers to this block.',
        suggestion: repaired ? { ...op, block_id: repaired } : undefined,
      },
    );
  }
  const existing = draft.blocks.get(op.block_id);
  if (existing) {
    const sameType = existing.type === op.type;
    const { type: _type, ...update } = op;
    return skip(
      'block_id_already_exists',
      `A block "${op.block_id}" (type "${existing.type}") already exists.`,
      {
        hint: sameType
          ? 'To change it, send an update op (see suggestion); params merge.'
          : `To add a second block, pick another block_id; to replace it, remove "${op.block_id}" first.`,
        suggestion: sameType
          ? { ...update, operation_type: 'update' }
          : { ...op, block_id: freeId(ctx, op.block_id) },
      },
    );
  }
  if (!connector) {
    const nearest = catalog.nearestType(op.type);
    const types = catalog.list().map((entry) => entry.type);
    return skip(
      'block_type_not_registered',
      `No connector type "${clip(op.type, 80)}" is registered.${nearest ? ` Did you mean "${nearest}"?` : ''}`,
      {
        hint: `Registered types: ${quoteList(types, 30)} (GET /api/connectors).`,
        suggestion: nearest ? { ...op, type: nearest } : undefined,
      },
    );
  }
  if (draft.blocks.size >= ctx.maxBlocks) return tooLarge(ctx);
  const guarded = guardParams(ctx, policyOf(connector), op);
  if (guarded) return guarded;
  const params = (safeJsonCopy(op.params ?? {}) ?? {}) as Record<string, unknown>;
  const weighed = ctx.weight.weigh(op.block_id, params);
  if (!weighed.fits) return tooHeavy(ctx, `block "${op.block_id}"'s params`, weighed);
  weighed.commit();
  const block: WorkflowBlock = { id: op.block_id, type: op.type, params, enabled: op.enabled ?? true };
  if (op.name !== undefined) block.name = op.name;
  if (op.position) block.position = { x: op.position.x, y: op.position.y };
  if (op.retry) block.retry = { ...op.retry };
  if (op.timeout_ms !== undefined) block.timeoutMs = op.timeout_ms;
  draft.blocks.set(block.id, block);
  return APPLIED;
}

/**
 * Updates name/params/enabled/position/retry/timeout; params merge and a `null` value removes the
 * key; `retry` and `timeout_ms` replace the override (`null` removes it).
 */
export function applyUpdate(ctx: OpContext, op: UpdateOp): OpOutcome {
  const block = ctx.draft.blocks.get(op.block_id);
  if (!block) return notFound(ctx, op);
  const guarded = guardParams(ctx, policyFor(ctx, block.type), op);
  if (guarded) return guarded;
  const params: Record<string, unknown> = { ...block.params };
  for (const [key, value] of Object.entries(op.params ?? {})) {
    if (value === null) delete params[key];
    else params[key] = safeJsonCopy(value) ?? null;
  }
  if (op.params !== undefined) {
    const weighed = ctx.weight.weigh(block.id, params);
    if (!weighed.fits) return tooHeavy(ctx, `block "${block.id}"'s params`, weighed);
    weighed.commit();
  }
  const next: WorkflowBlock = { ...block, params };
  if (op.name !== undefined) next.name = op.name;
  if (op.enabled !== undefined) next.enabled = op.enabled;
  if (op.position) next.position = { x: op.position.x, y: op.position.y };
  if (op.retry === null) delete next.retry;
  else if (op.retry) next.retry = { ...op.retry };
  if (op.timeout_ms === null) delete next.timeoutMs;
  else if (op.timeout_ms !== undefined) next.timeoutMs = op.timeout_ms;
  ctx.draft.blocks.set(block.id, next);
  return APPLIED;
}

/** Removes a block and every connection into or out of it. */
export function applyRemove(ctx: OpContext, op: RemoveOp): OpOutcome {
  if (!ctx.draft.blocks.has(op.block_id)) return notFound(ctx, op);
  removeBlock(ctx.draft, op.block_id);
  ctx.weight.remove(op.block_id);
  return APPLIED;
}

/** The visibility policy for a block type; unknown types refuse every known hidden name. */
export function policyFor(ctx: OpContext, type: string): ParamPolicy {
  const connector = ctx.catalog.get(type);
  if (connector) return policyOf(connector);
  return { type, hidden: ctx.catalog.allHiddenParams, userOnly: new Set(), secrets: {} };
}

function policyOf(connector: Connector): ParamPolicy {
  return {
    type: connector.type,
    hidden: connector.hiddenParams,
    userOnly: connector.userOnlyParams,
    secrets: connector.secrets,
  };
}

function notFound(ctx: OpContext, op: UpdateOp | RemoveOp): OpOutcome {
  const { block_id: id, operation_type: verb } = op;
  const later = ctx.adds.get(id)?.find((index) => index > ctx.index);
  const nearest = nearestName(id, [...ctx.draft.blocks.keys()]);
  const hint =
    later !== undefined
      ? `Ops apply in order and block "${clip(id, 80)}" is added later, by op #${later}: put the ${verb} after it.`
      : nearest
        ? `Did you mean "${nearest}"?`
        : `Existing blocks: ${quoteList(ctx.draft.blocks.keys())}.`;
  return skip('block_not_found', `Cannot ${verb} block "${clip(id, 80)}": no block has this id.`, {
    hint,
    suggestion: later === undefined && nearest ? { ...op, block_id: nearest } : undefined,
  });
}

function tooLarge(ctx: OpContext): OpOutcome {
  return skip(
    'workflow_too_large',
    `The workflow already has ${ctx.draft.blocks.size} blocks, the most allowed (${ctx.maxBlocks}).`,
    {
      hint: 'Remove unused blocks, or split the work into several workflows.',
    },
  );
}

function freeId(ctx: OpContext, id: string): string {
  const base = id.slice(0, 58);
  for (let n = 2; ; n += 1) {
    const candidate = `${base}_${n}`;
    if (!ctx.draft.blocks.has(candidate)) return candidate;
  }
}
