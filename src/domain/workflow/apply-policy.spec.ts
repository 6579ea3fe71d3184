import { z } from 'zod';
import { DEFAULT_POLICY_BOUNDS } from '../connectors/connector';
import { defineConnector, InvalidConnectorDefinition } from '../connectors/define-connector';
import { pinBlocks } from '../run/block-pins';
import type { BlockSpec } from '../run/block-spec';
import { apply } from './apply-ops';
import { asUser, block, testCatalog, workflowOf } from './workflow.builders';

const catalog = testCatalog();
const base = () =>
  workflowOf(
    [block('start', 'trigger_manual'), block('lookup', 'fetch_user', { userId: 'u1' })],
    [['start', 'lookup']],
  );

describe('apply: block retry and timeout overrides', () => {
  it('stores retry and timeout_ms of an add on the block, and the workflow stays runnable', () => {
    const result = apply(
      base(),
      [
        {
          operation_type: 'add',
          block_id: 'again',
          type: 'fetch_user',
          params: { userId: 'u2' },
          retry: { maxAttempts: 1 },
          timeout_ms: 5_000,
        },
      ],
      catalog,
      asUser,
    );
    expect(result.workflow.blocks[2]).toEqual({
      id: 'again',
      type: 'fetch_user',
      params: { userId: 'u2' },
      enabled: true,
      retry: { maxAttempts: 1 },
      timeoutMs: 5_000,
    });
    expect(result).toMatchObject({ ok: true, runnable: true });
  });

  it('reports retry_out_of_bounds naming the field and the allowed range', () => {
    const ops = [{ operation_type: 'update', block_id: 'lookup', retry: { maxAttempts: 50 } }];
    const result = apply(base(), ops, catalog, asUser);
    expect(result.skipped_items).toEqual([]);
    expect(result.validation_errors).toEqual([
      expect.objectContaining({
        block_id: 'lookup',
        field: 'retry.maxAttempts',
        value: 50,
        code: 'retry_out_of_bounds',
        allowed: [1, 10],
        suggestion: 10,
      }),
    ]);
    expect(result.validation_errors[0]?.error).toContain('between 1 and 10');
    expect(result.runnable).toBe(false);
  });

  it('reports timeout_out_of_bounds below the minimum', () => {
    const ops = [{ operation_type: 'update', block_id: 'lookup', timeout_ms: 10 }];
    const result = apply(base(), ops, catalog, asUser);
    expect(result.validation_errors).toEqual([
      expect.objectContaining({ field: 'timeoutMs', code: 'timeout_out_of_bounds', allowed: [1_000, 900_000] }),
    ]);
  });

  it('refuses any override on a trigger: it has no bounds', () => {
    const ops = [{ operation_type: 'update', block_id: 'start', retry: { maxAttempts: 2 } }];
    const result = apply(base(), ops, catalog, asUser);
    expect(result.validation_errors).toEqual([
      expect.objectContaining({ block_id: 'start', code: 'retry_out_of_bounds', allowed: [] }),
    ]);
  });

  it('removes overrides with null, making the workflow runnable again', () => {
    const broken = apply(
      base(),
      [{ operation_type: 'update', block_id: 'lookup', retry: { maxAttempts: 99 }, timeout_ms: 1 }],
      catalog,
      asUser,
    ).workflow;
    const result = apply(
      broken,
      [{ operation_type: 'update', block_id: 'lookup', retry: null, timeout_ms: null }],
      catalog,
      asUser,
    );
    expect(result.workflow.blocks[1]).toEqual(block('lookup', 'fetch_user', { userId: 'u1' }));
    expect(result).toMatchObject({ ok: true, runnable: true });
  });

  it('skips an op whose retry has an unknown field (strict schema)', () => {
    const ops = [{ operation_type: 'update', block_id: 'lookup', retry: { attempts: 1 } }];
    const result = apply(base(), ops, catalog, asUser);
    expect(result.skipped_items[0]).toMatchObject({ index: 0, block_id: 'lookup' });
    expect(result.changed).toBe(false);
  });
});

describe('pinBlocks: effective policy', () => {
  const specs: Record<string, BlockSpec> = {
    fetch_user: { kind: 'action', retry: { maxAttempts: 4, initialIntervalMs: 500 }, timeoutMs: 9_000 },
    trigger_manual: { kind: 'trigger' },
  };
  const specOf = (type: string) => specs[type];

  it("lays an action block's overrides over its connector's policy", () => {
    const workflow = base();
    workflow.blocks[1] = { ...block('lookup', 'fetch_user'), retry: { maxAttempts: 1 }, timeoutMs: 2_000 };
    const pin = pinBlocks(workflow, specOf).lookup;
    expect(pin?.retry).toMatchObject({ maxAttempts: 1, initialIntervalMs: 500 });
    expect(pin?.timeoutMs).toBe(2_000);
  });

  it("keeps the connector's policy for a block without overrides", () => {
    const pin = pinBlocks(base(), specOf).lookup;
    expect(pin?.retry).toMatchObject({ maxAttempts: 4, initialIntervalMs: 500 });
    expect(pin?.timeoutMs).toBe(9_000);
  });
});

describe('defineConnector: override bounds', () => {
  const base = { name: 'x', description: 'x', category: 'x', params: z.object({}), outputs: z.object({}) };

  it('gives actions the default bounds and waits none', () => {
    const action = defineConnector({ ...base, type: 'an_action', kind: 'action', run: async () => ({}) });
    const wait = defineConnector({ ...base, type: 'a_wait', kind: 'wait' });
    expect(action.overridable).toEqual(DEFAULT_POLICY_BOUNDS);
    expect(wait.overridable).toEqual({});
  });

  it('refuses an inverted range at definition time', () => {
    const define = () =>
      defineConnector({
        ...base,
        type: 'bad_bounds',
        kind: 'action',
        overridable: { timeoutMs: { min: 10, max: 1 } },
        run: async () => ({}),
      });
    expect(define).toThrow(InvalidConnectorDefinition);
  });
});
