import type { ConnectorCatalog } from '../connectors/connector-catalog';
import {
  type AppliedItem,
  type ApplyOptions,
  type ApplyResult,
  DEFAULT_MAX_BLOCKS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_PARAMS_BYTES,
  DEFAULT_MAX_WORKFLOW_PARAMS_BYTES,
  type Principal,
  type SkippedItem,
} from './apply-result';
import type { ConnectOp, EditOp } from './edit-op.schema';
import type { OpContext } from './op-outcome';
import { applyOne } from './apply-one';
import { redactOp } from './op-record';
import { ParamsWeight } from './params-weight';
import { parseEditOp } from './parse-edit-op';
import { summarize } from './summarize';
import { validateWorkflow } from './validate-workflow';
import type { SerializedWorkflow } from './workflow';
import { createDraft, draftToWorkflow } from './workflow-draft';

/**
 * Applies an agent's EditOp batch to a workflow. Pure, deterministic, never throws, never
 * mutates its inputs (unchanged blocks are shared with the input: treat both as immutable).
 *
 * Ops apply in order, each on its own: a bad op is skipped with a structured reason, later ops
 * see earlier ones, and a `connect` naming a block that a later op adds waits for the end of the
 * batch. `applied` is in application order (deferred connects last): replaying it reproduces the
 * result. Hidden values never reach the workflow or any record (`"[hidden]"`). The result is
 * validated (`validateWorkflow`); `ops` beyond MAX_OPS_PER_BATCH are the caller's to refuse.
 */
export function apply(
  workflow: SerializedWorkflow,
  ops: readonly unknown[],
  catalog: ConnectorCatalog,
  principal: Principal,
  options: ApplyOptions = {},
): ApplyResult {
  const list: readonly unknown[] = Array.isArray(ops) ? ops : [];
  const draft = createDraft(workflow);
  const base = {
    draft,
    catalog,
    principal,
    maxBlocks: options.maxBlocks ?? DEFAULT_MAX_BLOCKS,
    maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    weight: new ParamsWeight(draft, options.maxParamsBytes ?? DEFAULT_MAX_PARAMS_BYTES, options.maxWorkflowParamsBytes ?? DEFAULT_MAX_WORKFLOW_PARAMS_BYTES),
    adds: indexAdds(list),
  };
  const applied: AppliedItem[] = [];
  const skipped: SkippedItem[] = [];
  const deferred: { index: number; op: ConnectOp }[] = [];
  const run = (index: number, op: EditOp, mayDefer: boolean): void => {
    const hidden = hiddenParamsFor(base.draft, catalog, op);
    const outcome = applyOne({ ...base, index, mayDefer }, op);
    if (outcome.kind === 'deferred') deferred.push({ index, op: op as ConnectOp });
    else if (outcome.kind === 'applied') {
      applied.push({
        index,
        operation_type: op.operation_type,
        block_id: blockIdOf(op),
        op: redactOp(op, hidden) as Record<string, unknown>,
      });
    } else {
      const { kind: _kind, code, suggestion, ...prose } = outcome;
      skipped.push({
        index,
        operation_type: op.operation_type,
        block_id: blockIdOf(op),
        reason_code: code,
        ...prose,
        ...(suggestion
          ? { suggestion: redactOp(suggestion, hidden, 'drop') as Record<string, unknown> }
          : {}),
        op: redactOp(op, hidden),
      });
    }
  };
  list.forEach((raw, index) => {
    const parsed = parseEditOp(raw);
    if (parsed.ok) return run(index, parsed.op, true);
    const { ok: _ok, suggestion, reason, hint, ...where } = parsed;
    const hidden = catalog.allHiddenParams;
    skipped.push({
      index,
      ...where,
      reason_code: 'invalid_operation',
      reason,
      hint,
      ...(suggestion
        ? { suggestion: redactOp(suggestion, hidden, 'drop') as Record<string, unknown> }
        : {}),
      op: redactOp(raw, hidden),
    });
  });
  for (const { index, op } of deferred.splice(0)) run(index, op, false);
  skipped.sort((a, b) => a.index - b.index);
  const result = applied.length > 0 ? draftToWorkflow(draft) : workflow;
  const validation_errors = validateWorkflow(result, catalog, {
    templateEnv: options.templateEnv ?? [],
  });
  const runnable = validation_errors.length === 0;
  return {
    workflow: result,
    applied,
    skipped_items: skipped,
    validation_errors,
    changed: applied.length > 0,
    runnable,
    ok: runnable && skipped.length === 0,
    summary: summarize(list.length, applied, skipped, validation_errors),
  };
}

function hiddenParamsFor(
  draft: OpContext['draft'],
  catalog: ConnectorCatalog,
  op: EditOp,
): ReadonlySet<string> {
  if (op.operation_type === 'add')
    return catalog.get(op.type)?.hiddenParams ?? catalog.allHiddenParams;
  if (op.operation_type === 'update') {
    const block = draft.blocks.get(op.block_id);
    return (block && catalog.get(block.type)?.hiddenParams) || catalog.allHiddenParams;
  }
  return catalog.allHiddenParams;
}

function blockIdOf(op: EditOp): string | null {
  return 'block_id' in op ? op.block_id.slice(0, 100) : null;
}

/** Block id → positions of the add ops for it, from a first look at the raw batch. */
function indexAdds(ops: readonly unknown[]): Map<string, number[]> {
  const adds = new Map<string, number[]>();
  ops.forEach((raw, index) => {
    if (raw === null || typeof raw !== 'object') return;
    const { operation_type: type, block_id: id } = raw as Record<string, unknown>;
    if (typeof type !== 'string' || type.trim().toLowerCase() !== 'add' || typeof id !== 'string')
      return;
    adds.set(id, [...(adds.get(id) ?? []), index]);
  });
  return adds;
}
