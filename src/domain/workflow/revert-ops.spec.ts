import { apply } from './apply-ops';
import { buildPatchBenchmarkCase } from './fixtures';
import { opsToRevert } from './revert-ops';
import type { SerializedWorkflow } from './workflow';
import { asUser, block, testCatalog, workflowOf } from './workflow.builders';

const catalog = testCatalog();

/** A workflow with its blocks and connections in a stable order, to compare content. */
function normalized(workflow: SerializedWorkflow): SerializedWorkflow {
  const key = (c: { source: string; target: string; sourceHandle?: string }) => `${c.source}>${c.target}>${c.sourceHandle ?? ''}`;
  return {
    ...workflow,
    blocks: [...workflow.blocks].sort((a, b) => a.id.localeCompare(b.id)),
    connections: [...workflow.connections].sort((a, b) => key(a).localeCompare(key(b))),
  };
}

/** Applies the revert's ops to `current`: every op must apply, and the result must be `target`. */
function revert(current: SerializedWorkflow, target: SerializedWorkflow) {
  const ops = opsToRevert(current, target);
  const result = apply(current, ops, catalog, asUser);
  expect(result.skipped_items).toEqual([]);
  expect(normalized(result.workflow)).toEqual(normalized(target));
  return ops;
}

describe('opsToRevert: the EditOps from one version back to another', () => {
  it('removes, adds, retypes and updates blocks field by field, and redoes the connections that differ', () => {
    const then = workflowOf(
      [
        block('start', 'trigger_manual'),
        { ...block('check', 'condition', { left: '{{trigger.n}}', operator: 'exists' }), name: 'Check' },
        block('yes', 'transform', { template: 'yes', extra: { deep: [1, 2] } }),
        { ...block('no', 'transform', { template: 'no' }), timeoutMs: 5000, position: { x: 1, y: 2 } },
        block('gone', 'transform', { template: 'removed later' }),
      ],
      [['start', 'check'], ['check', 'yes', 'true'], ['check', 'no', 'false'], ['yes', 'gone']],
      { label: 'v1', kept: 1 },
    );
    const now = workflowOf(
      [
        block('start', 'trigger_manual'),
        block('check', 'condition', { left: '{{trigger.n}}', operator: 'exists', right: 3 }),
        block('yes', 'transform', { template: 'yes!', extra: { deep: [1, 2] } }, false),
        block('no', 'condition', { left: 1, operator: 'exists' }),
        block('added', 'transform', { template: 'new' }),
      ],
      [['start', 'check'], ['check', 'yes', 'false'], ['check', 'no', 'true'], ['yes', 'added']],
      { label: 'v2', kept: 1, extra: true },
    );
    const ops = revert({ ...now, metadata: { name: 'renamed', description: 'd' } }, then);
    expect(ops.map((o) => `${o.operation_type}:${String(o.block_id ?? '')}`)).toEqual([
      'remove:no', // its type changed: removed, then added as it was
      'remove:added',
      'disconnect:check',
      'update:check',
      'update:yes',
      'add:no',
      'add:gone',
      'connect:check',
      'connect:check',
      'connect:yes',
      'set_variables:',
      'set_metadata:',
    ]);
    expect(ops.find((o) => o.operation_type === 'update' && o.block_id === 'check')).toEqual({ operation_type: 'update', block_id: 'check', params: { right: null }, name: 'Check' });
    expect(ops.find((o) => o.operation_type === 'set_variables')).toEqual({ operation_type: 'set_variables', variables: { extra: null, label: 'v1' } });
  });

  it('reverts nothing between equal workflows, and rebuilds a workflow from empty and back', () => {
    const { workflow } = buildPatchBenchmarkCase(60, 0);
    expect(opsToRevert(workflow, workflow)).toEqual([]);
    const empty = workflowOf([]);
    revert(empty, workflow);
    revert(workflow, empty);
  });

  it("undoes an agent's whole patch batch of adds, updates, connects, disconnects and removes", () => {
    const { workflow, ops } = buildPatchBenchmarkCase(200, 50);
    const patched = apply(workflow, ops, catalog, asUser).workflow;
    expect(normalized(patched)).not.toEqual(normalized(workflow));
    revert(patched, workflow);
    revert(workflow, patched);
  });
});
