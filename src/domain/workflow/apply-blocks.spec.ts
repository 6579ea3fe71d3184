import { apply } from './apply-ops';
import { asUser, block, op, testCatalog, workflowOf } from './workflow.builders';
import { emptyWorkflow } from './workflow';

const catalog = testCatalog();
const start = () =>
  workflowOf(
    [block('start', 'trigger_manual'), block('t', 'transform', { template: 1 })],
    [['start', 't']],
  );

describe('apply: blocks', () => {
  it('adds a block with defaults and reports it applied', () => {
    const result = apply(emptyWorkflow(), [op.add('start', 'trigger_manual')], catalog, asUser);
    expect(result.workflow.blocks).toEqual([
      { id: 'start', type: 'trigger_manual', params: {}, enabled: true },
    ]);
    expect(result.applied).toEqual([
      { index: 0, operation_type: 'add', block_id: 'start', op: op.add('start', 'trigger_manual') },
    ]);
    expect(result).toMatchObject({ changed: true, ok: true, runnable: true, skipped_items: [] });
  });

  it('skips an add whose id exists and suggests an update op', () => {
    const result = apply(start(), [op.add('t', 'transform', { template: 2 })], catalog, asUser);
    expect(result.skipped_items[0]).toMatchObject({
      index: 0,
      reason_code: 'block_id_already_exists',
      block_id: 't',
      suggestion: { operation_type: 'update', block_id: 't', params: { template: 2 } },
    });
    expect(result.changed).toBe(false);
  });

  it('suggests a free id when an existing id has another type', () => {
    const result = apply(start(), [op.add('t', 'condition')], catalog, asUser);
    expect(result.skipped_items[0]?.suggestion).toMatchObject({
      operation_type: 'add',
      block_id: 't_2',
      type: 'condition',
    });
  });

  it('skips an unknown type and suggests the nearest registered type', () => {
    const result = apply(
      emptyWorkflow(),
      [op.add('x', 'tranform', { template: 1 }), op.add('y', 'slack_msg')],
      catalog,
      asUser,
    );
    expect(result.skipped_items[0]).toMatchObject({
      reason_code: 'block_type_not_registered',
      suggestion: { type: 'transform' },
    });
    expect(result.skipped_items[0]?.reason).toContain('Did you mean "transform"');
    expect(result.skipped_items[1]?.reason_code).toBe('block_type_not_registered');
  });

  it.each([
    ['1abc'],
    ['has space'],
    ['a'.repeat(65)],
    ['__proto__'],
    ['constructor'],
    ['prototype'],
    ['vars'],
    ['env'],
  ])('skips an add with the invalid block id %j', (id) => {
    const result = apply(
      emptyWorkflow(),
      [op.add(id, 'transform', { template: 1 })],
      catalog,
      asUser,
    );
    expect(result.skipped_items[0]?.reason_code).toBe('invalid_block_id');
    expect(result.workflow.blocks).toEqual([]);
  });

  it('suggests a repaired id for an invalid one', () => {
    const result = apply(
      emptyWorkflow(),
      [op.add('send email', 'transform', { template: 1 })],
      catalog,
      asUser,
    );
    expect(result.skipped_items[0]?.suggestion).toMatchObject({ block_id: 'send_email' });
  });

  it('accepts the id "trigger" for a trigger block only', () => {
    expect(
      apply(emptyWorkflow(), [op.add('trigger', 'trigger_manual')], catalog, asUser).applied,
    ).toHaveLength(1);
    const asAction = apply(
      emptyWorkflow(),
      [op.add('trigger', 'transform', { template: 1 })],
      catalog,
      asUser,
    );
    expect(asAction.skipped_items[0]).toMatchObject({
      reason_code: 'invalid_block_id',
      suggestion: { block_id: 'trigger_block' },
    });
  });

  it('merges update params and removes keys set to null', () => {
    const workflow = workflowOf([
      block('mail', 'send_email', { to: 'a@b.co', subject: 's', retries: 2 }),
    ]);
    const result = apply(
      workflow,
      [
        {
          operation_type: 'edit',
          block_id: 'mail',
          params: { subject: 'new', retries: null },
          enabled: false,
        },
      ],
      catalog,
      asUser,
    );
    expect(result.workflow.blocks[0]).toEqual({
      id: 'mail',
      type: 'send_email',
      params: { to: 'a@b.co', subject: 'new' },
      enabled: false,
    });
    expect(result.applied[0]?.operation_type).toBe('update');
  });

  it('skips an update of a missing block, pointing at the nearest id', () => {
    const result = apply(start(), [op.update('tt', { template: 3 })], catalog, asUser);
    expect(result.skipped_items[0]).toMatchObject({
      reason_code: 'block_not_found',
      suggestion: { block_id: 't' },
    });
  });

  it('tells an agent that an update came before the add of its block', () => {
    const result = apply(
      emptyWorkflow(),
      [op.update('late', { template: 3 }), op.add('late', 'transform', { template: 1 })],
      catalog,
      asUser,
    );
    expect(result.skipped_items[0]?.hint).toContain('op #1');
  });

  it('removes a block with its connections (delete alias)', () => {
    const result = apply(start(), [{ operation_type: 'delete', block_id: 't' }], catalog, asUser);
    expect(result.workflow.blocks.map((b) => b.id)).toEqual(['start']);
    expect(result.workflow.connections).toEqual([]);
    expect(result.applied[0]?.operation_type).toBe('remove');
  });

  it('skips a remove of a missing block', () => {
    expect(apply(start(), [op.remove('nope')], catalog, asUser).skipped_items[0]?.reason_code).toBe(
      'block_not_found',
    );
  });

  it('skips adds beyond the block cap with workflow_too_large', () => {
    const result = apply(start(), [op.add('more', 'transform', { template: 1 })], catalog, asUser, {
      maxBlocks: 2,
    });
    expect(result.skipped_items[0]?.reason_code).toBe('workflow_too_large');
  });

  it('skips params past the per-block limit with params_too_large, and applies the rest of the batch', () => {
    const big = 'x'.repeat(300_000);
    const result = apply(
      start(),
      [op.add('fat', 'transform', { template: big }), op.add('thin', 'transform', { template: 1 }), op.update('t', { template: big })],
      catalog,
      asUser,
    );
    expect(result.skipped_items.map((item) => [item.index, item.reason_code])).toEqual([
      [0, 'params_too_large'],
      [2, 'params_too_large'],
    ]);
    expect(result.skipped_items[0]?.reason).toBe('The block "fat"\'s params would be at least 300016 bytes as JSON; at most 262144 are allowed.');
    expect(result.workflow.blocks.map((b) => b.id)).toEqual(['start', 't', 'thin']);
    expect(result.workflow.blocks[1]?.params).toEqual({ template: 1 });
  });

  it('holds all params and variables together to the workflow limit; a remove frees its share', () => {
    const half = { template: 'x'.repeat(400) };
    const options = { maxWorkflowParamsBytes: 1_000 };
    const full = apply(start(), [op.add('a', 'transform', half), op.add('b', 'transform', half), op.add('c', 'transform', half)], catalog, asUser, options);
    expect(full.skipped_items.map((item) => [item.index, item.reason_code])).toEqual([[2, 'workflow_too_large']]);
    const freed = apply(full.workflow, [op.remove('a'), op.add('c', 'transform', half)], catalog, asUser, options);
    expect(freed.skipped_items).toEqual([]);
    const variables = apply(full.workflow, [{ operation_type: 'set_variables', variables: { v: 'x'.repeat(400) } }], catalog, asUser, options);
    expect(variables.skipped_items[0]?.reason_code).toBe('workflow_too_large');
  });

  it('lets a workflow stored over the total shrink, never grow', () => {
    const heavy = workflowOf([block('start', 'trigger_manual'), block('t', 'transform', { template: 'x'.repeat(2_000) })], [['start', 't']]);
    const options = { maxWorkflowParamsBytes: 1_000 };
    expect(apply(heavy, [op.update('t', { template: 'x'.repeat(1_500) })], catalog, asUser, options).skipped_items).toEqual([]);
    expect(apply(heavy, [op.update('t', { template: 'x'.repeat(2_500) })], catalog, asUser, options).skipped_items[0]?.reason_code).toBe('workflow_too_large');
  });

  it('sets metadata and merges variables, null removing one', () => {
    const workflow = workflowOf([], [], { keep: 1, drop: 2 });
    const result = apply(
      workflow,
      [
        { operation_type: 'set_metadata', name: 'Renamed' },
        { operation_type: 'set_variables', variables: { drop: null, added: { deep: true } } },
      ],
      catalog,
      asUser,
    );
    expect(result.workflow.metadata).toEqual({ name: 'Renamed', description: '' });
    expect(result.workflow.variables).toEqual({ keep: 1, added: { deep: true } });
  });

  it('applies later ops on top of earlier ones in the same batch', () => {
    const result = apply(
      emptyWorkflow(),
      [
        op.add('a', 'transform', { template: 1 }),
        op.update('a', { template: 2 }),
        op.remove('a'),
        op.add('a', 'transform', { template: 3 }),
      ],
      catalog,
      asUser,
    );
    expect(result.workflow.blocks).toEqual([
      { id: 'a', type: 'transform', params: { template: 3 }, enabled: true },
    ]);
    expect(result.applied).toHaveLength(4);
  });

  it('does not create a version when every op was skipped', () => {
    const workflow = start();
    const result = apply(workflow, [op.remove('zzz'), op.add('t', 'transform')], catalog, asUser);
    expect(result.changed).toBe(false);
    expect(result.workflow).toBe(workflow);
    expect(result.summary).toContain('Nothing changed');
  });
});
