import type { z } from 'zod';
import type { editOpWireSchema } from '../domain/workflow/edit-op.schema';
import type { SerializedWorkflow } from '../domain/workflow/workflow';

/** One EditOp as `POST /api/workflows/:id/operations` accepts it (API.md): the request schema's own type. */
export type WireEditOp = z.input<typeof editOpWireSchema>;

/**
 * The patch that builds `workflow` from an empty one: metadata (run timeout and concurrency limit
 * included), variables, every block (`add`,
 * with its retry/timeout overrides) and every connection (`connect`). Applied to a new workflow
 * it gives the same document, so a typed workflow and an agent's patches edit one document.
 */
export function toEditOps(workflow: SerializedWorkflow): WireEditOp[] {
  const concurrency = workflow.metadata.concurrency;
  const ops: WireEditOp[] = [
    {
      operation_type: 'set_metadata',
      name: workflow.metadata.name,
      description: workflow.metadata.description,
      ...(workflow.metadata.timeoutMs !== undefined ? { timeout_ms: workflow.metadata.timeoutMs } : {}),
      ...(concurrency ? { concurrency: { limit: concurrency.limit, ...(concurrency.keyPath !== undefined ? { key_path: concurrency.keyPath } : {}) } } : {}),
    },
  ];
  if (Object.keys(workflow.variables).length > 0) {
    ops.push({ operation_type: 'set_variables', variables: { ...workflow.variables } });
  }
  for (const block of workflow.blocks) {
    const op: WireEditOp = {
      operation_type: 'add',
      block_id: block.id,
      type: block.type,
      params: block.params,
      enabled: block.enabled,
    };
    if (block.name !== undefined) op.name = block.name;
    if (block.position) op.position = { ...block.position };
    if (block.retry) op.retry = { ...block.retry };
    if (block.timeoutMs !== undefined) op.timeout_ms = block.timeoutMs;
    ops.push(op);
  }
  for (const edge of workflow.connections) {
    ops.push({
      operation_type: 'connect',
      block_id: edge.source,
      target_block_id: edge.target,
      ...(edge.sourceHandle !== undefined ? { source_handle: edge.sourceHandle } : {}),
    });
  }
  return ops;
}
