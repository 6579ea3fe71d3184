import { compareValues } from './compare-values';
import { condition } from './condition.connector';
import { transform } from './transform.connector';
import { triggerManual } from './trigger.connectors';
import { humanApproval, waitDuration, waitForEvent } from './wait.connectors';
import type { ConnectorContext } from '../connector';

const ctx: ConnectorContext = {
  runId: 'r',
  blockId: 'b',
  attempt: 1,
  idempotencyKey: 'r:b:1',
  signal: new AbortController().signal,
  secrets: {},
  log: () => undefined,
};

describe('pure builtins', () => {
  it.each([
    [1, 'eq', 1, true],
    [{ a: [1] }, 'eq', { a: [1] }, true],
    ['a', 'ne', 'b', true],
    [3, 'gt', 2, true],
    ['10', 'gt', 9, true],
    ['b', 'gte', 'a', true],
    [2, 'lt', '3', true],
    [3, 'lte', 3, true],
    [{}, 'lt', 1, false],
    ['hello', 'contains', 'ell', true],
    [[1, { x: 2 }], 'contains', { x: 2 }, true],
    [{ k: 1 }, 'contains', 'k', true],
    [5, 'contains', 5, false],
    [0, 'exists', undefined, true],
    [null, 'exists', undefined, false],
    [undefined, 'exists', undefined, false],
  ] as const)('compares %j %s %j as %s', (left, operator, right, expected) => {
    expect(compareValues(left, operator, right)).toBe(expected);
  });

  it('condition outputs its result', async () => {
    await expect(condition.run?.({ left: 2, operator: 'gt', right: 1 }, ctx)).resolves.toEqual({
      result: true,
    });
  });

  it('transform hands its resolved template on as value', async () => {
    await expect(transform.run?.({ template: { a: [1] } }, ctx)).resolves.toEqual({
      value: { a: [1] },
    });
  });

  it('transform requires a template', () => {
    expect(transform.agentParams.safeParse({}).success).toBe(false);
  });

  it('triggers accept an optional input schema and emit any object', () => {
    expect(triggerManual.params.safeParse({ inputSchema: { type: 'object' } }).success).toBe(true);
    expect(triggerManual.outputs.safeParse({ anything: 1 }).success).toBe(true);
  });

  it('waits declare params and outputs but no run', () => {
    for (const wait of [waitDuration, waitForEvent, humanApproval])
      expect(wait.run).toBeUndefined();
    expect(waitDuration.params.safeParse({ durationMs: 0 }).success).toBe(false);
    expect(waitForEvent.outputs.shape).toHaveProperty('timedOut');
    expect(Object.keys(humanApproval.outputs.shape)).toEqual([
      'approved',
      'by',
      'note',
      'timedOut',
    ]);
  });
});
