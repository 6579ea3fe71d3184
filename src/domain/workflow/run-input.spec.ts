import { compileInputSchema, validateRunInput } from './run-input';
import { validateWorkflow } from './validate-workflow';
import { block, testCatalog, workflowOf } from './workflow.builders';

const catalog = testCatalog();
const schema = {
  type: 'object',
  properties: { email: { type: 'string' }, count: { type: 'integer', minimum: 1 } },
  required: ['email'],
};

describe('run input validation', () => {
  it('accepts any input without a trigger schema', () => {
    expect(
      validateRunInput(workflowOf([block('start', 'trigger_manual')]), { anything: true }, catalog),
    ).toEqual({ ok: true });
    expect(validateRunInput(workflowOf([]), 1, catalog)).toEqual({ ok: true });
  });

  it("checks the input against the trigger's JSON Schema", () => {
    const workflow = workflowOf([block('start', 'trigger_webhook', { inputSchema: schema })]);
    expect(validateRunInput(workflow, { email: 'a@b.co', count: 2 }, catalog)).toEqual({
      ok: true,
    });
    expect(validateRunInput(workflow, { count: 0 }, catalog)).toMatchObject({
      ok: false,
      issues: [{ path: 'email' }, { path: 'count' }],
    });
  });

  it('compiles each inputSchema object once, however many starts check an input against it', () => {
    const json = structuredClone(schema);
    const first = compileInputSchema(json);
    expect(compileInputSchema(json)).toBe(first);
    // Another object with the same content is another schema: compiled on its own.
    expect(compileInputSchema(structuredClone(schema))).not.toBe(first);
    expect(compileInputSchema({ type: 'bogus' })).toMatchObject({ error: expect.any(String) });
  });

  it('reports an unusable or regex-bearing input schema as a validation error', () => {
    const bad = workflowOf([block('start', 'trigger_manual', { inputSchema: { type: 'bogus' } })]);
    expect(validateWorkflow(bad, catalog)).toEqual([
      expect.objectContaining({ field: 'inputSchema', code: 'invalid_param_value' }),
    ]);
    const regex = workflowOf([
      block('start', 'trigger_manual', { inputSchema: { type: 'string', pattern: '(a+)+$' } }),
    ]);
    expect(validateWorkflow(regex, catalog)[0]?.error).toContain('"pattern" is not supported');
    expect(validateRunInput(regex, 'aaaa', catalog)).toMatchObject({ ok: false });
  });
});
