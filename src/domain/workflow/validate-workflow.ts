import type { ConnectorCatalog } from '../connectors/connector-catalog';
import { upstreamIndex } from './upstream-index';
import { compileInputSchema } from './run-input';
import { validateParams } from './validate-params';
import { validatePolicy } from './validate-policy';
import { type ReferenceScope, validateReferences } from './validate-references';
import type { ValidationError } from './validation-error';
import type { SerializedWorkflow, WorkflowBlock } from './workflow';

/** Operator settings validation needs. */
export interface ValidateOptions {
  /** Names `{{env.NAME}}` may read (THODARE_TEMPLATE_ENV). */
  templateEnv?: readonly string[];
}

/**
 * Why a workflow cannot run yet; empty means runnable. Checks every enabled block (disabled
 * blocks never run and are not checked): its type is registered, its params fit the connector
 * schema, its `retry` / `timeoutMs` overrides lie within the connector's bounds, its references
 * exist, are upstream and name declared outputs; and that at most one
 * trigger exists. A workflow without a trigger is runnable (a run is then started by hand).
 * Pure and deterministic: errors follow block order.
 */
export function validateWorkflow(
  workflow: SerializedWorkflow,
  catalog: ConnectorCatalog,
  options: ValidateOptions = {},
): ValidationError[] {
  const blocks = new Map<string, WorkflowBlock>();
  for (const block of workflow.blocks) if (!blocks.has(block.id)) blocks.set(block.id, block);
  const errors: ValidationError[] = [];
  const triggers = workflow.blocks.filter(
    (block) => block.enabled && catalog.get(block.type)?.kind === 'trigger',
  );
  const first = triggers[0];
  for (const extra of triggers.slice(1)) {
    errors.push({
      block_id: extra.id,
      block_type: extra.type,
      field: 'type',
      value: extra.type,
      code: 'multiple_triggers',
      allowed: [first?.id],
      error: `A workflow has at most one trigger and "${first?.id}" is already it; remove "${extra.id}" (suggestion) or "${first?.id}".`,
      suggestion: { operation_type: 'remove', block_id: extra.id },
    });
  }
  const scope: ReferenceScope = {
    blocks,
    catalog,
    variables: workflow.variables,
    templateEnv: options.templateEnv ?? [],
    isUpstream: upstreamIndex(
      workflow.blocks.map((block) => block.id),
      workflow.connections,
    ),
  };
  const triggerOutputs = first ? catalog.get(first.type)?.outputs : undefined;
  if (triggerOutputs) scope.triggerOutputs = triggerOutputs;
  for (const block of blocks.values()) {
    if (!block.enabled) continue;
    const connector = catalog.get(block.type);
    if (!connector) {
      errors.push({
        block_id: block.id,
        block_type: block.type,
        field: 'type',
        value: block.type,
        code: 'block_type_not_registered',
        error: `Block "${block.id}" has type "${block.type}", which is no longer registered; remove it or replace it.`,
        allowed: catalog.list().map((c) => c.type),
      });
      continue;
    }
    errors.push(
      ...validateParams(block, connector),
      ...validatePolicy(block, connector),
      ...validateReferences(block, scope),
    );
    if (connector.kind === 'trigger' && block.params.inputSchema !== undefined) {
      const compiled = compileInputSchema(block.params.inputSchema);
      if ('error' in compiled) {
        errors.push({
          block_id: block.id,
          block_type: block.type,
          field: 'inputSchema',
          value: block.params.inputSchema,
          code: 'invalid_param_value',
          error: compiled.error,
        });
      }
    }
  }
  return errors;
}
