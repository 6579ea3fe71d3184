import { apply } from './apply-ops';
import { asApiKey, asUser, block, op, testCatalog, workflowOf } from './workflow.builders';
import { emptyWorkflow } from './workflow';

const catalog = testCatalog();
const mail = () => workflowOf([block('mail', 'send_email', { to: 'a@b.co', subject: 'hi' })]);

describe('apply: hidden params, user-only params, hostile input', () => {
  it('skips an op that sets a hidden param and never stores or echoes its value', () => {
    const secret = 'sk-live-123456';
    const result = apply(
      emptyWorkflow(),
      [op.add('mail', 'send_email', { to: 'a@b.co', subject: 'hi', apiKey: secret })],
      catalog,
      asUser,
    );
    expect(result.skipped_items[0]).toMatchObject({
      reason_code: 'hidden_param_in_input',
      op: { params: { apiKey: '[hidden]' } },
      suggestion: {
        operation_type: 'add',
        block_id: 'mail',
        params: { to: 'a@b.co', subject: 'hi' },
      },
    });
    expect(result.skipped_items[0]?.reason).toContain('EMAIL_API_KEY');
    expect(JSON.stringify(result)).not.toContain(secret);
  });

  it('refuses hidden params in an update too, even set to null', () => {
    const result = apply(mail(), [op.update('mail', { apiKey: null })], catalog, asUser);
    expect(result.skipped_items[0]?.reason_code).toBe('hidden_param_in_input');
  });

  it('masks hidden-looking values in ops whose type is unknown', () => {
    const result = apply(
      emptyWorkflow(),
      [op.add('m', 'send_emial', { apiKey: 'secret-value' })],
      catalog,
      asUser,
    );
    expect(JSON.stringify(result)).not.toContain('secret-value');
    expect(result.skipped_items[0]?.suggestion).toEqual({
      operation_type: 'add',
      block_id: 'm',
      type: 'send_email',
      params: {},
    });
  });

  it('masks hidden values inside malformed ops', () => {
    const result = apply(
      emptyWorkflow(),
      [{ operation_type: 'add', block_id: 'm', params: { apiKey: 'secret-value' } }],
      catalog,
      asUser,
    );
    expect(result.skipped_items[0]?.reason_code).toBe('invalid_operation');
    expect(JSON.stringify(result)).not.toContain('secret-value');
  });

  it('lets a person set a user-only param', () => {
    const result = apply(mail(), [op.update('mail', { fromAddress: 'ops@b.co' })], catalog, asUser);
    expect(result.workflow.blocks[0]?.params.fromAddress).toBe('ops@b.co');
  });

  it('refuses a user-only param from an API key and suggests the op without it', () => {
    const result = apply(
      mail(),
      [op.update('mail', { fromAddress: 'ops@b.co', subject: 'new' })],
      catalog,
      asApiKey,
    );
    expect(result.skipped_items[0]).toMatchObject({
      reason_code: 'user_only_param',
      suggestion: { params: { subject: 'new' } },
    });
    expect(result.workflow.blocks[0]?.params).toEqual({ to: 'a@b.co', subject: 'hi' });
  });

  it('skips malformed ops with invalid_operation instead of throwing', () => {
    const result = apply(
      emptyWorkflow(),
      [
        null,
        42,
        'add',
        [],
        {},
        { operation_type: 'explode' },
        { operation_type: 'add', block_id: 'a' },
      ],
      catalog,
      asUser,
    );
    expect(result.skipped_items.map((item) => item.reason_code)).toEqual(
      Array(7).fill('invalid_operation'),
    );
    expect(result.skipped_items[5]?.reason).toContain('Unknown operation_type');
  });

  it('suggests the wire names for commonly misnamed fields', () => {
    const result = apply(
      workflowOf([
        block('a', 'transform', { template: 1 }),
        block('b', 'transform', { template: 1 }),
      ]),
      [{ operation_type: 'connect', source: 'a', target: 'b' }],
      catalog,
      asUser,
    );
    expect(result.skipped_items[0]).toMatchObject({
      reason_code: 'invalid_operation',
      suggestion: { operation_type: 'connect', block_id: 'a', target_block_id: 'b' },
    });
  });

  it('refuses JSON-parsed __proto__, constructor and prototype keys anywhere in an op without polluting', () => {
    const ops = JSON.parse(`[
      {"operation_type":"add","block_id":"a","type":"transform","params":{"__proto__":{"polluted":true},"template":1}},
      {"operation_type":"add","block_id":"b","type":"transform","params":{"template":{"nested":{"constructor":{"prototype":{"x":1}}}}}},
      {"operation_type":"set_variables","variables":{"__proto__":{"polluted":true}}},
      {"__proto__":{"polluted":true},"operation_type":"set_metadata","name":"x"}
    ]`) as unknown[];
    const result = apply(emptyWorkflow(), ops, catalog, asUser);
    expect(result.skipped_items.map((item) => item.reason_code)).toEqual(
      Array(4).fill('invalid_operation'),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(result.skipped_items[0]?.op as object)).not.toContain('__proto__');
    expect(JSON.stringify(result)).not.toContain('polluted');
  });

  it('never mutates the workflow or the ops it is given, nor aliases the ops in its result', () => {
    const workflow = mail();
    const ops = [
      op.update('mail', { subject: 'changed' }),
      op.add('x', 'transform', { template: { a: 1 } }),
      op.connect('mail', 'x'),
    ];
    const before = JSON.stringify({ workflow, ops });
    const result = apply(workflow, ops, catalog, asUser);
    expect(JSON.stringify({ workflow, ops })).toBe(before);
    (result.workflow.blocks[1]?.params.template as Record<string, unknown>).a = 2;
    expect((ops[1] as unknown as { params: { template: { a: number } } }).params.template.a).toBe(
      1,
    );
  });
});
