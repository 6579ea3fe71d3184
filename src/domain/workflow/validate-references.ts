import type { z } from 'zod';
import type { ConnectorCatalog } from '../connectors/connector-catalog';
import { nearestName } from '../connectors/edit-distance';
import {
  collectReferences,
  type LocatedReference,
  type Reference,
} from '../resolver/reference-parser';
import { checkOutputs, checkVariable, type Problem, replaceReference } from './reference-checks';
import type { ValidationError } from './validation-error';
import type { WorkflowBlock } from './workflow';

/** What reference checks read about the whole workflow. */
export interface ReferenceScope {
  blocks: ReadonlyMap<string, WorkflowBlock>;
  catalog: ConnectorCatalog;
  variables: Readonly<Record<string, unknown>>;
  templateEnv: readonly string[];
  /** Outputs schema of the workflow's trigger, for `{{trigger.path}}`; absent = any run input. */
  triggerOutputs?: z.core.$ZodType;
  /** `source` runs before `target` (a path of connections leads from one to the other). */
  isUpstream(source: string, target: string): boolean;
}

const SYNTAX = '{{trigger.path}}, {{vars.name}}, {{env.NAME}} or {{<blockId>.output}}';

/**
 * Checks every `{{…}}` in a block's params: it parses, its root exists, a block root is upstream
 * and enabled, and the path exists in the declared outputs schema along its whole length.
 */
export function validateReferences(block: WorkflowBlock, scope: ReferenceScope): ValidationError[] {
  const errors: ValidationError[] = [];
  for (const located of collectReferences(block.params)) {
    for (const problem of checkOne(block, located, scope)) {
      errors.push({
        block_id: block.id,
        block_type: block.type,
        field: located.field.join('.') || 'params',
        value: located.text,
        ...problem,
      });
    }
  }
  return errors;
}

/** Problems of one reference; a block reference can be both not upstream and to an unknown output. */
function checkOne(
  block: WorkflowBlock,
  located: LocatedReference,
  scope: ReferenceScope,
): Problem[] {
  const source = located.reference ? scope.blocks.get(located.reference.root) : undefined;
  const first = checkRoot(block, located, scope);
  if (
    !source ||
    (first && first.code !== 'reference_not_upstream') ||
    source.id === block.id ||
    !source.enabled
  )
    return first ? [first] : [];
  const connector = scope.catalog.get(source.type);
  const output = connector
    ? checkOutputs(
        located,
        located.reference as Reference,
        connector.outputs,
        `block "${source.id}" (${source.type})`,
      )
    : undefined;
  return [first, output].filter((problem): problem is Problem => problem !== undefined);
}

function checkRoot(
  block: WorkflowBlock,
  located: LocatedReference,
  scope: ReferenceScope,
): Problem | undefined {
  const reference = located.reference;
  if (!reference)
    return {
      code: 'unknown_reference',
      error: `"${located.malformed}" is not a valid reference; write ${SYNTAX}.`,
    };
  const { root, path } = reference;
  if (root === 'trigger')
    return scope.triggerOutputs
      ? checkOutputs(located, reference, scope.triggerOutputs, 'the trigger')
      : undefined;
  if (root === 'vars') return checkVariable(located, reference, scope);
  if (root === 'env') {
    if (path.length === 1 && scope.templateEnv.includes(path[0] as string)) return undefined;
    const names = scope.templateEnv.length > 0 ? scope.templateEnv.join(', ') : 'none';
    return {
      code: 'unknown_reference',
      allowed: [...scope.templateEnv],
      error: `${reference.raw} is not readable: {{env.NAME}} works only for names the operator lists in THODARE_TEMPLATE_ENV (${names}). Use a variable or a hidden param bound to a secret instead.`,
    };
  }
  const source = scope.blocks.get(root);
  if (!source) {
    const nearest = nearestName(
      root,
      [...scope.blocks.keys()].filter((id) => id !== block.id),
    );
    return {
      code: 'unknown_reference',
      allowed: upstreamIds(block, scope),
      error: `${reference.raw} refers to block "${root}", which does not exist${nearest ? `; did you mean "${nearest}"?` : ''}. References look like ${SYNTAX}.`,
      ...(nearest ? { suggestion: replaceReference(located, reference, nearest, path) } : {}),
    };
  }
  if (root === block.id)
    return {
      code: 'reference_not_upstream',
      error: `${reference.raw}: a block cannot read its own output.`,
    };
  if (!source.enabled)
    return {
      code: 'reference_not_upstream',
      error: `${reference.raw}: block "${root}" is disabled, so it never produces output.`,
    };
  if (!scope.isUpstream(root, block.id)) {
    const connect = scope.isUpstream(block.id, root)
      ? undefined
      : { operation_type: 'connect', block_id: root, target_block_id: block.id };
    return {
      code: 'reference_not_upstream',
      ...(connect ? { suggestion: connect } : {}),
      error: `${reference.raw}: block "${root}" does not run before "${block.id}" (no path of connections from it). ${connect ? `Connect "${root}" (or a block after it) to "${block.id}".` : `"${root}" runs after "${block.id}": read something upstream instead.`}`,
    };
  }
  return undefined;
}

function upstreamIds(block: WorkflowBlock, scope: ReferenceScope): string[] {
  return [...scope.blocks.keys()].filter((id) => id !== block.id && scope.isUpstream(id, block.id));
}
