import { apply } from './apply-ops';
import { validateWorkflow } from './validate-workflow';
import { asUser, block, op, testCatalog, workflowOf } from './workflow.builders';

const catalog = testCatalog();
const codes = (errors: { code: string; field: string }[]) =>
  errors.map((error) => `${error.field}:${error.code}`);
const withUser = (target: ReturnType<typeof block>, extra: [string, string][] = []) =>
  workflowOf(
    [
      block('start', 'trigger_manual'),
      block('user', 'fetch_user', { userId: '{{trigger.id}}' }),
      target,
    ],
    [['start', 'user'], ['user', target.id], ...extra],
    { greeting: { text: 'hi' } },
  );

describe('validateWorkflow', () => {
  it('reports missing required params, bad values with allowed enum values, and unknown params', () => {
    const errors = validateWorkflow(
      workflowOf([
        block('mail', 'send_email', {
          to: 'not-an-email',
          priority: 'urgent',
          retries: 9,
          colour: 'red',
        }),
      ]),
      catalog,
    );
    expect(codes(errors)).toEqual([
      'colour:unknown_param',
      'to:invalid_param_value',
      'subject:required_param_missing',
      'priority:invalid_param_value',
      'retries:invalid_param_value',
    ]);
    expect(errors.find((error) => error.field === 'priority')).toMatchObject({
      block_id: 'mail',
      block_type: 'send_email',
      value: 'urgent',
      allowed: ['low', 'normal', 'high'],
    });
  });

  it('never asks for a hidden param: secrets fill it', () => {
    expect(
      validateWorkflow(
        workflowOf([block('mail', 'send_email', { to: 'a@b.co', subject: 's' })]),
        catalog,
      ),
    ).toEqual([]);
  });

  it('does not type-check an exact reference as a literal, but checks the reference', () => {
    const ok = withUser(
      block('mail', 'send_email', {
        to: '{{user.user.emails.0.address}}',
        subject: 's',
        retries: '{{user.total}}',
        priority: '{{vars.greeting.text}}',
      }),
    );
    expect(validateWorkflow(ok, catalog)).toEqual([]);
  });

  it('checks interpolated strings only for being strings', () => {
    const errors = validateWorkflow(
      withUser(
        block('mail', 'send_email', {
          to: 'x-{{user.user.name}}@b.co',
          subject: 's',
          retries: 'n={{user.total}}',
        }),
      ),
      catalog,
    );
    expect(codes(errors)).toEqual(['retries:invalid_param_value']);
  });

  it('checks a reference path against the declared outputs along the whole path', () => {
    const errors = validateWorkflow(
      withUser(
        block('mail', 'send_email', {
          to: '{{user.user.emails.0.adress}}',
          subject: '{{user.user.nmae}}',
          retries: '{{user.total.value}}',
        }),
      ),
      catalog,
    );
    expect(codes(errors)).toEqual([
      'to:unknown_output',
      'subject:unknown_output',
      'retries:unknown_output',
    ]);
    expect(errors[0]).toMatchObject({
      allowed: ['address', 'primary'],
      suggestion: '{{user.user.emails.0.address}}',
    });
    expect(errors[1]).toMatchObject({
      allowed: ['name', 'emails'],
      suggestion: '{{user.user.name}}',
    });
    expect(errors[2]?.error).toContain('"total" is a number');
  });

  it('suggests declared outputs for a hallucinated first segment', () => {
    const errors = validateWorkflow(
      withUser(block('t', 'transform', { template: '{{user.username}}' })),
      catalog,
    );
    expect(errors[0]).toMatchObject({ code: 'unknown_output', allowed: ['user', 'total'] });
  });

  it('suggests the only declared output, however far the hallucinated name is from it', () => {
    const errors = validateWorkflow(
      workflowOf(
        [block('start', 'trigger_manual'), block('log', 'transform', { template: 'x' }), block('next', 'transform', { template: '{{log.result}}' })],
        [['start', 'log'], ['log', 'next']],
      ),
      catalog,
    );
    expect(errors).toEqual([expect.objectContaining({ code: 'unknown_output', allowed: ['value'], suggestion: '{{log.value}}' })]);
  });

  it('reports references to unknown blocks, variables and env names', () => {
    const errors = validateWorkflow(
      withUser(
        block('t', 'transform', {
          template: {
            a: '{{usr.total}}',
            b: '{{vars.missing}}',
            c: '{{env.HOME}}',
            d: '{{trigger.}}',
          },
        }),
      ),
      catalog,
    );
    expect(codes(errors)).toEqual([
      'template.a:unknown_reference',
      'template.b:unknown_reference',
      'template.c:unknown_reference',
      'template.d:unknown_reference',
    ]);
    expect(errors[0]).toMatchObject({ suggestion: '{{user.total}}', allowed: ['start', 'user'] });
  });

  it('reads env names the operator allowed', () => {
    const workflow = withUser(block('t', 'transform', { template: '{{env.REGION}}' }));
    expect(validateWorkflow(workflow, catalog, { templateEnv: ['REGION'] })).toEqual([]);
  });

  it('reports a reference to a block that is not upstream and suggests the connect', () => {
    const workflow = workflowOf(
      [
        block('start', 'trigger_manual'),
        block('user', 'fetch_user', { userId: '1' }),
        block('t', 'transform', { template: '{{user.total}}' }),
      ],
      [
        ['start', 'user'],
        ['start', 't'],
      ],
    );
    const errors = validateWorkflow(workflow, catalog);
    expect(errors).toEqual([
      expect.objectContaining({
        code: 'reference_not_upstream',
        suggestion: { operation_type: 'connect', block_id: 'user', target_block_id: 't' },
      }),
    ]);
  });

  it('reports references to itself, to downstream blocks and to disabled blocks', () => {
    const workflow = workflowOf(
      [
        block('a', 'transform', { template: '{{a.value}}' }),
        block('b', 'transform', { template: '{{c.value}}' }),
        block('c', 'transform', { template: 1 }),
        block('d', 'transform', { template: '{{e.value}}' }),
        block('e', 'transform', { template: 1 }, false),
      ],
      [
        ['b', 'c'],
        ['e', 'd'],
      ],
    );
    expect(codes(validateWorkflow(workflow, catalog))).toEqual([
      'template:reference_not_upstream',
      'template:reference_not_upstream',
      'template:reference_not_upstream',
    ]);
  });

  it('allows at most one trigger', () => {
    const errors = validateWorkflow(
      workflowOf([block('a', 'trigger_manual'), block('b', 'trigger_webhook')]),
      catalog,
    );
    expect(errors).toEqual([
      expect.objectContaining({
        block_id: 'b',
        code: 'multiple_triggers',
        suggestion: { operation_type: 'remove', block_id: 'b' },
      }),
    ]);
  });

  it('treats a workflow without a trigger as runnable', () => {
    expect(
      apply(workflowOf([]), [op.add('t', 'transform', { template: 'x' })], catalog, asUser),
    ).toMatchObject({ runnable: true, ok: true });
  });

  it('reports blocks whose type is no longer registered', () => {
    expect(codes(validateWorkflow(workflowOf([block('old', 'gone_type')]), catalog))).toEqual([
      'type:block_type_not_registered',
    ]);
  });

  it('puts validation errors in the summary', () => {
    const result = apply(
      workflowOf([]),
      [op.add('mail', 'send_email', { to: 'a@b.co' })],
      catalog,
      asUser,
    );
    expect(result.summary).toContain('1 validation error: mail.subject required_param_missing');
    expect(result).toMatchObject({ ok: false, runnable: false, changed: true });
  });
});
