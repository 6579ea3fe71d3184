import { apply } from './apply-ops';
import { asUser, block, op, testCatalog, workflowOf } from './workflow.builders';
import { emptyWorkflow } from './workflow';

const catalog = testCatalog();
const t = (id: string) => block(id, 'transform', { template: id });
const chain = () =>
  workflowOf(
    [block('start', 'trigger_manual'), t('a'), t('b'), t('c')],
    [
      ['start', 'a'],
      ['a', 'b'],
      ['b', 'c'],
    ],
  );

describe('apply: connections', () => {
  it('connects two blocks', () => {
    const result = apply(workflowOf([t('a'), t('b')]), [op.connect('a', 'b')], catalog, asUser);
    expect(result.workflow.connections).toEqual([{ source: 'a', target: 'b' }]);
  });

  it('defers a connect naming a block added later in the batch to the end of the batch', () => {
    const result = apply(
      emptyWorkflow(),
      [
        op.connect('a', 'b'),
        op.add('a', 'transform', { template: 1 }),
        op.add('b', 'transform', { template: 2 }),
      ],
      catalog,
      asUser,
    );
    expect(result.skipped_items).toEqual([]);
    expect(result.workflow.connections).toEqual([{ source: 'a', target: 'b' }]);
    expect(result.applied.map((item) => item.index)).toEqual([1, 2, 0]);
  });

  it('skips a deferred connect whose add was skipped, saying so', () => {
    const result = apply(
      workflowOf([t('a')]),
      [op.connect('a', 'b'), op.add('b', 'nope_type')],
      catalog,
      asUser,
    );
    expect(result.skipped_items.map((item) => item.reason_code)).toEqual([
      'invalid_edge_target',
      'block_type_not_registered',
    ]);
    expect(result.skipped_items[0]?.reason).toContain('op #1');
  });

  it('skips connects from or to missing blocks, suggesting the nearest id', () => {
    const result = apply(chain(), [op.connect('aa', 'c'), op.connect('a', 'cc')], catalog, asUser);
    expect(result.skipped_items[0]).toMatchObject({
      reason_code: 'invalid_edge_source',
      suggestion: { block_id: 'a' },
    });
    expect(result.skipped_items[1]).toMatchObject({
      reason_code: 'invalid_edge_target',
      suggestion: { target_block_id: 'c' },
    });
  });

  it('skips a connect that would close a cycle, naming the cycle', () => {
    const result = apply(chain(), [op.connect('c', 'a')], catalog, asUser);
    expect(result.skipped_items[0]?.reason_code).toBe('cycle_introduced');
    expect(result.skipped_items[0]?.reason).toContain('c → a → b → c');
  });

  it('skips a self-loop as a cycle', () => {
    expect(
      apply(chain(), [op.connect('a', 'a')], catalog, asUser).skipped_items[0]?.reason_code,
    ).toBe('cycle_introduced');
  });

  it('skips a duplicate connection', () => {
    expect(
      apply(chain(), [op.connect('a', 'b')], catalog, asUser).skipped_items[0]?.reason_code,
    ).toBe('duplicate_connection');
  });

  it('refuses edges into a trigger and suggests the reverse edge', () => {
    const result = apply(
      workflowOf([block('start', 'trigger_manual'), t('a')]),
      [op.connect('a', 'start')],
      catalog,
      asUser,
    );
    expect(result.skipped_items[0]).toMatchObject({
      reason_code: 'invalid_edge_target',
      suggestion: { block_id: 'start', target_block_id: 'a' },
    });
  });

  it('requires a true/false handle on edges out of a condition', () => {
    const workflow = workflowOf([
      block('if', 'condition', { left: 1, operator: 'exists' }),
      t('a'),
      t('b'),
    ]);
    const result = apply(
      workflow,
      [
        op.connect('if', 'a'),
        op.connect('if', 'a', 'true'),
        op.connect('if', 'b', 'false'),
        op.connect('if', 'b', 'maybe'),
      ],
      catalog,
      asUser,
    );
    expect(result.skipped_items.map((item) => [item.index, item.reason_code])).toEqual([
      [0, 'invalid_edge_source'],
      [3, 'invalid_edge_source'],
    ]);
    expect(result.skipped_items[0]?.suggestion).toMatchObject({ source_handle: 'true' });
    expect(result.workflow.connections).toEqual([
      { source: 'if', target: 'a', sourceHandle: 'true' },
      { source: 'if', target: 'b', sourceHandle: 'false' },
    ]);
  });

  it('allows an error handle out of an action but no other handle', () => {
    const result = apply(
      workflowOf([t('a'), t('b'), t('c')]),
      [op.connect('a', 'b', 'error'), op.connect('a', 'c', 'done')],
      catalog,
      asUser,
    );
    expect(result.applied).toHaveLength(1);
    expect(result.skipped_items[0]).toMatchObject({
      reason_code: 'invalid_edge_source',
      suggestion: { operation_type: 'connect', block_id: 'a', target_block_id: 'c' },
    });
  });

  it('caps connections with workflow_too_large', () => {
    const result = apply(
      workflowOf([t('a'), t('b'), t('c')], [['a', 'b']]),
      [op.connect('b', 'c')],
      catalog,
      asUser,
      { maxConnections: 1 },
    );
    expect(result.skipped_items[0]?.reason_code).toBe('workflow_too_large');
  });

  it('disconnects an edge, any handle when none is given', () => {
    const workflow = workflowOf(
      [block('if', 'condition', { left: 1, operator: 'exists' }), t('a')],
      [
        ['if', 'a', 'true'],
        ['if', 'a', 'false'],
      ],
    );
    expect(
      apply(workflow, [op.disconnect('if', 'a', 'true')], catalog, asUser).workflow.connections,
    ).toEqual([{ source: 'if', target: 'a', sourceHandle: 'false' }]);
    expect(
      apply(workflow, [op.disconnect('if', 'a')], catalog, asUser).workflow.connections,
    ).toEqual([]);
  });

  it('skips a disconnect of a missing edge with edge_not_found', () => {
    const result = apply(
      chain(),
      [op.disconnect('a', 'c'), op.disconnect('x', 'y')],
      catalog,
      asUser,
    );
    expect(result.skipped_items.map((item) => item.reason_code)).toEqual([
      'edge_not_found',
      'edge_not_found',
    ]);
    expect(result.skipped_items[0]?.hint).toContain('"b"');
  });
});
