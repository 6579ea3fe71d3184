import { editOpWireSchema } from './edit-op.schema';
import { parseEditOp } from './parse-edit-op';

describe('parseEditOp', () => {
  it('accepts aliases and any letter case, returning the canonical type', () => {
    expect(parseEditOp({ operation_type: 'EDIT', block_id: 'a', params: {} })).toEqual({
      ok: true,
      op: { operation_type: 'update', block_id: 'a', params: {} },
    });
    expect(parseEditOp({ operation_type: 'delete', block_id: 'a' })).toEqual({
      ok: true,
      op: { operation_type: 'remove', block_id: 'a' },
    });
  });

  it('explains schema failures field by field', () => {
    const parsed = parseEditOp({ operation_type: 'connect', block_id: 'a', target_block: 'b' });
    expect(parsed).toMatchObject({ ok: false, operation_type: 'connect', block_id: 'a' });
    expect(!parsed.ok && parsed.reason).toContain('target_block_id');
    expect(!parsed.ok && parsed.reason).toContain('Unrecognized key');
  });

  it('suggests the nearest operation type for an unknown one', () => {
    expect(
      parseEditOp({ operation_type: 'conect', block_id: 'a', target_block_id: 'b' }),
    ).toMatchObject({ ok: false, suggestion: { operation_type: 'connect' } });
  });

  it('refuses ops nested deeper than the limit', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 40; i += 1) deep = { x: deep };
    const parsed = parseEditOp({
      operation_type: 'add',
      block_id: 'a',
      type: 'transform',
      params: { template: deep },
    });
    expect(!parsed.ok && parsed.reason).toContain('nested too deeply');
  });

  it('exposes a wire schema with the aliases for request validation and OpenAPI', () => {
    expect(editOpWireSchema.safeParse({ operation_type: 'edit', block_id: 'a' }).success).toBe(
      true,
    );
    expect(editOpWireSchema.safeParse({ operation_type: 'explode' }).success).toBe(false);
  });
});
