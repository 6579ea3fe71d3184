import { apply } from './apply-ops';
import type { ApplyResult } from './apply-result';
import { asApiKey, testCatalog } from './workflow.builders';
import { emptyWorkflow, type SerializedWorkflow } from './workflow';

const catalog = testCatalog();
type Op = Record<string, unknown>;

/**
 * A scripted agent that repairs only from what a patch result says: it resends `suggestion`s,
 * drops ops skipped for a cycle or duplicate, resends edges whose block add was skipped, and
 * sends the suggestions of validation errors (ops as they are, values as param updates).
 */
function repairOps(result: ApplyResult): Op[] {
  const adds: Op[] = [];
  const rest: Op[] = [];
  const push = (next: Op) => {
    const list = next.operation_type === 'add' ? adds : rest;
    if (!list.some((known) => JSON.stringify(known) === JSON.stringify(next))) list.push(next);
  };
  for (const item of result.skipped_items) {
    if (item.reason_code === 'cycle_introduced' || item.reason_code === 'duplicate_connection')
      continue;
    if (item.suggestion) push(item.suggestion);
    else if (
      item.reason_code === 'invalid_edge_source' ||
      item.reason_code === 'invalid_edge_target'
    )
      push(item.op as Op);
  }
  for (const error of result.validation_errors) {
    if (typeof error.suggestion === 'object' && error.suggestion !== null)
      push(error.suggestion as Op);
    else if (typeof error.suggestion === 'string')
      push(paramUpdate(result.workflow, error.block_id, error.field, error.suggestion));
  }
  return [...adds, ...rest];
}

function paramUpdate(
  workflow: SerializedWorkflow,
  blockId: string,
  field: string,
  value: string,
): Op {
  const [top = '', ...nested] = field.split('.');
  const current = workflow.blocks.find((block) => block.id === blockId)?.params[top];
  if (nested.length === 0)
    return { operation_type: 'update', block_id: blockId, params: { [top]: value } };
  const copy = JSON.parse(JSON.stringify(current ?? {})) as Record<string, unknown>;
  let at = copy;
  for (const key of nested.slice(0, -1)) at = at[key] as Record<string, unknown>;
  at[nested[nested.length - 1] as string] = value;
  return { operation_type: 'update', block_id: blockId, params: { [top]: copy } };
}

describe('agent repair loop', () => {
  it('converges to ok within two repair batches using only the structured feedback', () => {
    const firstBatch: Op[] = [
      { operation_type: 'connect', block_id: 'start', target_block_id: 'fetch' },
      { operation_type: 'add', block_id: 'start', type: 'trigger_manual' },
      {
        operation_type: 'add',
        block_id: 'fetch',
        type: 'fetch_usr',
        params: { userId: '{{trigger.userId}}' },
      },
      {
        operation_type: 'add',
        block_id: 'notify',
        type: 'send_email',
        params: {
          to: '{{fetch.user.email}}',
          subject: 'Welcome {{fetch.user.name}}',
          apiKey: 'sk-live-123',
        },
      },
      {
        operation_type: 'add',
        block_id: 'log',
        type: 'transform',
        params: { template: { sent: '{{notify.messageId}}' } },
      },
      { operation_type: 'connect', block_id: 'notify', target_block_id: 'log' },
      {
        operation_type: 'add',
        block_id: 'audit',
        type: 'transform',
        params: { template: '{{log.value}}' },
      },
      { operation_type: 'connect', block_id: 'log', target_block_id: 'audit' },
      { operation_type: 'connect', block_id: 'audit', target_block_id: 'log' },
    ];
    let result = apply(emptyWorkflow(), firstBatch, catalog, asApiKey);
    expect(result.skipped_items.map((item) => item.reason_code).sort()).toEqual(
      [
        'block_type_not_registered',
        'cycle_introduced',
        'hidden_param_in_input',
        'invalid_edge_source',
        'invalid_edge_target',
      ].sort(),
    );
    expect(JSON.stringify(result)).not.toContain('sk-live-123');

    const batches: Op[][] = [];
    while (!result.ok && batches.length < 2) {
      const ops = repairOps(result);
      batches.push(ops);
      result = apply(result.workflow, ops, catalog, asApiKey);
    }

    expect(result.summary).toContain('valid and runnable');
    expect(result.ok).toBe(true);
    expect(batches.length).toBeLessThanOrEqual(2);
    expect(result.workflow.blocks.map((block) => block.id)).toEqual([
      'start',
      'log',
      'audit',
      'fetch',
      'notify',
    ]);
    expect(
      result.workflow.blocks.find((block) => block.id === 'notify')?.params,
    ).not.toHaveProperty('apiKey');
  });
});
